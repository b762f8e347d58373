/**
 * kubectl (the one on PATH) against a whole cluster on real Docker — `berth up --nodes 2`, with
 * the kubeconfig it writes (TLS + bearer token): nodes, apply and re-apply of a multi-document
 * manifest, wide and selected listings, describe, scale, logs written by a container, a watch
 * seeing pods come and go, and delete -f. Every pod here really runs in Docker.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../helpers/nats.ts";
import { collect, containersOf, startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";

const manifest = (replicas: number, greeting: string) => `apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: berth/busybox:latest
        imagePullPolicy: Never
        command: ["sh", "-c", "echo \\"greeting=$GREETING from $(hostname)\\"; exec httpd -f -p 8080"]
        ports:
        - containerPort: 8080
        env:
        - name: GREETING
          value: "${greeting}"
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`;

interface PodRow {
  name: string;
  ready: string;
  status: string;
  ip: string;
  node: string;
}

describe.sequential("kubectl against a whole cluster on Docker (berth up --nodes 2)", () => {
  let c: BerthUpCluster;
  let file: string;

  const ok = (args: string[]): string => {
    const r = c.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** `kubectl get pods -l app=web -o wide` as rows. */
  const webPods = (): PodRow[] =>
    ok(["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"])
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const f = l.split(/\s+/);
        return { name: f[0], ready: f[1], status: f[2], ip: f[5], node: f[6] };
      });
  const runningReady = (rows: PodRow[]) => rows.filter((r) => r.status === "Running" && r.ready === "1/1");

  beforeAll(async () => {
    c = await startBerthUpCluster("kubectl", ["--nodes", "2"]);
    file = join(c.home, "web.yaml");
  }, 720_000);

  afterAll(async () => {
    await stopBerthUpCluster(c);
  }, 180_000);

  it("kubectl get nodes lists both nodes Ready", () => {
    const out = ok(["get", "nodes"]);
    expect(out).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    const rows = out.split("\n").slice(1).filter(Boolean).map((l) => l.split(/\s+/));
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ["node-1", "Ready"],
      ["node-2", "Ready"],
    ]);
  });

  it("kubectl apply -f of an RC and a Service creates both, and the pods run on the nodes", async () => {
    writeFileSync(file, manifest(2, "hello"));
    const r = c.kubectl(["apply", "-f", file]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("replicationcontroller/web created\nservice/web created\n");
    await waitFor(() => runningReady(webPods()).length === 2, "2 web pods Running and Ready", 60_000, 250);
    // Every pod greets with the applied value.
    for (const p of webPods()) {
      await waitFor(() => ok(["logs", p.name]).includes(`greeting=hello from ${p.name}`), `the log line of ${p.name}`, 20_000, 250);
    }
  });

  it("an edited re-apply (replicas and an env value) patches the RC and the pods converge", async () => {
    const before = webPods().map((p) => p.name);
    writeFileSync(file, manifest(3, "bonjour"));
    const r = c.kubectl(["apply", "-f", file]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("replicationcontroller/web configured\nservice/web unchanged\n");
    const rc = JSON.parse(ok(["get", "rc", "web", "-o", "json"]));
    expect(rc.spec.replicas).toBe(3);
    expect(rc.spec.template.spec.containers[0].env).toEqual([{ name: "GREETING", value: "bonjour" }]);
    await waitFor(() => runningReady(webPods()).length === 3, "3 web pods Running and Ready", 60_000, 250);
    await waitFor(() => ok(["get", "rc", "web", "--no-headers"]).match(/^web\s+3\s+3\s+3\s/), "the RC's table to say 3 desired, 3 current, 3 ready", 30_000, 250);
    // A replication controller does not touch running pods for a template change: the two old
    // pods keep "hello", the one made after the edit says "bonjour".
    const added = webPods().filter((p) => !before.includes(p.name));
    expect(added).toHaveLength(1);
    await waitFor(() => ok(["logs", added[0].name]).includes(`greeting=bonjour from ${added[0].name}`), "the new pod's greeting", 20_000, 250);
    for (const name of before) expect(ok(["logs", name])).toContain(`greeting=hello from ${name}`);
  });

  it("kubectl get pods -o wide shows each pod's IP on the berth bridge and its node; the pods spread over both nodes", async () => {
    const out = ok(["get", "pods", "-o", "wide"]);
    expect(out.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    const rows = webPods();
    expect(rows).toHaveLength(3);
    for (const p of rows) {
      expect(p.ip).toMatch(/^10\.213\.\d+\.\d+$/);
      expect(["node-1", "node-2"]).toContain(p.node);
    }
    expect(new Set(rows.map((p) => p.ip)).size).toBe(3);
    expect(new Set(rows.map((p) => p.node))).toEqual(new Set(["node-1", "node-2"]));
    // The IPs kubectl shows are the ones the Service's endpoints hold.
    const ep = JSON.parse(ok(["get", "endpoints", "web", "-o", "json"]));
    const epIps = (ep.subsets ?? []).flatMap((s: { addresses?: { ip: string }[] }) => (s.addresses ?? []).map((a) => a.ip));
    expect(epIps.sort()).toEqual(rows.map((p) => p.ip).sort());
    // And its EndpointSlices (what clients other than Berth's proxy read) hold the same, all ready.
    const sliceIps = () => (JSON.parse(ok(["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json"])).items as { endpoints: { addresses: string[]; conditions?: { ready?: boolean } }[] }[])
      .flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).map((e) => e.addresses[0])).sort();
    await waitFor(() => sliceIps().join() === epIps.join(), "the web Service's EndpointSlices to hold its Endpoints' addresses", 20_000, 250);
    expect(ok(["get", "svc", "web", "--no-headers"])).toMatch(/^web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s/);
  });

  it("kubectl get pods -l selects by label (equality, inequality and set forms)", () => {
    const names = webPods().map((p) => `pod/${p.name}`).sort();
    expect(ok(["get", "pods", "-l", "app=web", "-o", "name"]).trim().split("\n").sort()).toEqual(names);
    expect(ok(["get", "pods", "-l", "app in (web,db)", "-o", "name"]).trim().split("\n").sort()).toEqual(names);
    const none = c.kubectl(["get", "pods", "-l", "app!=web"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("");
    expect(none.stderr).toMatch(/No resources found in default namespace/);
  });

  it("kubectl describe pod shows the node, the IP, the container and its environment", () => {
    const p = webPods()[0];
    const out = ok(["describe", "pod", p.name]);
    expect(out).toMatch(new RegExp(`^Name:\\s+${p.name}$`, "m"));
    expect(out).toMatch(new RegExp(`^Node:\\s+${p.node}(/\\S+)?$`, "m"));
    expect(out).toMatch(/^Labels:\s+app=web$/m);
    expect(out).toMatch(/^Status:\s+Running$/m);
    expect(out).toMatch(new RegExp(`^IP:\\s+${p.ip.replace(/\./g, "\\.")}$`, "m"));
    expect(out).toMatch(/^Controlled By:\s+ReplicationController\/web$/m);
    expect(out).toMatch(/Image:\s+berth\/busybox:latest/);
    expect(out).toMatch(/GREETING:\s+(hello|bonjour)/);
    expect(out).toMatch(/Ready\s+True/);
  });

  it("kubectl get pods -w prints pods as the RC scales up and down (kubectl scale rc)", async () => {
    const before = webPods().map((p) => p.name);
    const watch = c.spawnKubectl(["get", "pods", "-l", "app=web", "-w"]);
    const out = collect(watch);
    try {
      await waitFor(() => before.every((n) => out.text().includes(n)), "the watch's initial listing", 20_000, 100);
      expect(ok(["scale", "rc", "web", "--replicas=4"])).toBe("replicationcontroller/web scaled\n");
      await waitFor(() => runningReady(webPods()).length === 4, "4 web pods Running and Ready", 60_000, 250);
      const added = webPods().map((p) => p.name).filter((n) => !before.includes(n));
      expect(added).toHaveLength(1);
      // The watch printed the new pod, and later saw it Running.
      await waitFor(() => new RegExp(`^${added[0]}\\s+1/1\\s+Running`, "m").test(out.text()), "the watch to show the new pod Running", 20_000, 100);

      expect(ok(["scale", "rc", "web", "--replicas=1"])).toBe("replicationcontroller/web scaled\n");
      await waitFor(() => webPods().length === 1 && runningReady(webPods()).length === 1, "1 web pod left", 60_000, 250);
      const gone = [...before, ...added].filter((n) => n !== webPods()[0].name);
      expect(gone).toHaveLength(3);
      // The watch saw each removed pod terminate.
      for (const n of gone) {
        await waitFor(() => new RegExp(`^${n}\\s+\\S+\\s+Terminating`, "m").test(out.text()), `the watch to show ${n} Terminating`, 20_000, 100);
      }
      expect(JSON.parse(ok(["get", "rc", "web", "-o", "json"])).status.replicas).toBe(1);
    } finally {
      watch.kill("SIGKILL");
    }
  });

  it("kubectl logs prints what the container wrote, and -f follows it", async () => {
    const p = webPods()[0];
    const logs = ok(["logs", p.name]);
    expect(logs).toMatch(new RegExp(`^greeting=(hello|bonjour) from ${p.name}$`, "m"));
    expect(ok(["logs", p.name, "-c", "web"])).toBe(logs);
    const follow = c.spawnKubectl(["logs", "-f", p.name]);
    const out = collect(follow);
    try {
      await waitFor(() => out.text().includes(`from ${p.name}`), "logs -f to print the existing line", 20_000, 100);
      expect(follow.exitCode).toBe(null); // still following
    } finally {
      follow.kill("SIGKILL");
    }
  });

  it("kubectl logs of a pod whose node does not answer fails with the reason, not an empty log", () => {
    const manifest = join(c.home, "ghost.yaml");
    writeFileSync(manifest, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ghost\nspec:\n  nodeName: no-such-node\n  containers:\n  - name: c\n    image: berth/busybox:latest\n");
    ok(["apply", "-f", manifest]);
    try {
      const r = c.kubectl(["logs", "ghost"]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/ServiceUnavailable|did not answer/);
    } finally {
      c.kubectl(["delete", "pod", "ghost", "--grace-period=0", "--force"]);
    }
  });

  it("kubectl delete --grace-period=1 hurries a pod already terminating in its default 30 s (a shell's sleep ignores SIGTERM)", async () => {
    const manifest = join(c.home, "stubborn.yaml");
    writeFileSync(manifest, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stubborn\nspec:\n  containers:\n  - name: c\n    image: berth/busybox:latest\n    imagePullPolicy: Never\n    command: [sleep, '3600']\n");
    ok(["apply", "-f", manifest]);
    ok(["wait", "--for=condition=Ready", "pod/stubborn", "--timeout=60s"]);
    const running = async () => (await containersOf(c)).filter((x) => x.Labels["berth.pod.name"] === "stubborn" && x.State === "running").length;
    expect(await running()).toBeGreaterThan(0);
    ok(["delete", "pod", "stubborn", "--wait=false"]);
    expect(ok(["get", "pod", "stubborn", "-o", "jsonpath={.metadata.deletionGracePeriodSeconds}"])).toBe("30");
    // The node has begun its 30 s stop (its Killing event); the shorter period must cut it short.
    await waitFor(() => ok(["get", "events", "--field-selector", "involvedObject.name=stubborn,reason=Killing", "-o", "name"]).trim() !== "", "the node's Killing event for the pod", 20_000, 100);
    const t0 = Date.now();
    ok(["delete", "pod", "stubborn", "--grace-period=1"]);
    const took = Date.now() - t0;
    expect(c.kubectl(["get", "pod", "stubborn"]).stderr).toMatch(/NotFound|not found/);
    expect(await running()).toBe(0);
    expect(took, `the second delete took ${took} ms`).toBeLessThan(15_000);
  });

  it("kubectl delete -f removes the RC and the Service; the pods and their containers go", async () => {
    const r = c.kubectl(["delete", "-f", file]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('replicationcontroller "web" deleted\nservice "web" deleted\n');
    await waitFor(() => {
      const left = c.kubectl(["get", "pods", "-l", "app=web", "-o", "name"]);
      return left.code === 0 && left.stdout === "";
    }, "the RC's pods to be deleted", 60_000, 250);
    await waitFor(async () => (await containersOf(c)).length === 0, "the nodes to remove the pods' containers", 60_000, 250);
    expect(c.kubectl(["get", "rc", "web"]).stderr).toMatch(/NotFound|not found/);
    expect(c.kubectl(["get", "svc", "web"]).stderr).toMatch(/NotFound|not found/);
  });

  it("kubectl inside a pod reaches the API in-cluster (its token, the cluster CA, the kubernetes Service) and RBAC decides what it may do", async () => {
    // The kubectl on PATH is a static Go binary: mounted into a busybox pod, it uses client-go's
    // in-cluster config (KUBERNETES_SERVICE_HOST/PORT, the token and ca.crt under
    // /var/run/secrets/kubernetes.io/serviceaccount), as any in-cluster client does.
    const svc = JSON.parse(ok(["get", "svc", "kubernetes", "-o", "json"]));
    expect(svc.spec).toMatchObject({ type: "ClusterIP", ports: [{ name: "https", port: 443, protocol: "TCP" }] });
    expect(svc.spec.clusterIP).toMatch(/^10\.\d+\.0\.1$/);
    // Its EndpointSlice is written by the API process itself, named as the Service (kube-apiserver's), and not mirrored.
    const slices = JSON.parse(ok(["get", "endpointslices", "-l", "kubernetes.io/service-name=kubernetes", "-o", "json"])).items as { metadata: { name: string }; endpoints: { addresses: string[] }[]; ports: { port: number }[] }[];
    expect(slices.map((s) => s.metadata.name)).toEqual(["kubernetes"]);
    expect(slices[0].ports[0].port).toBe(svc.spec.ports[0].targetPort);
    const pod = (name: string, automount: boolean) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  terminationGracePeriodSeconds: 1
  automountServiceAccountToken: ${automount}
  volumes: [{name: kubectl, hostPath: {path: ${realpathSync(execFileSync("sh", ["-c", "command -v kubectl"], { encoding: "utf8" }).trim())}, type: File}}]
  containers:
  - name: c
    image: berth/busybox:latest
    imagePullPolicy: Never
    command: [sleep, "3600"]
    env: [{name: HOME, value: /tmp}]
    volumeMounts: [{name: kubectl, mountPath: /opt/bin/kubectl, readOnly: true}]
`;
    expect(c.kubectl(["apply", "-f", "-"], { stdin: `${pod("incluster", true)}---\n${pod("notoken", false)}` }).code).toBe(0);
    await waitFor(() => ok(["get", "pods", "incluster", "notoken", "--no-headers"]).split("\n").filter((l) => /\sRunning\s/.test(l)).length === 2, "both pods Running", 60_000, 250);
    const inPod = (pod: string, cmd: string) => c.kubectl(["exec", pod, "--", "sh", "-c", cmd], { timeoutMs: 60_000 });

    expect(inPod("incluster", "echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT").stdout).toBe(`${svc.spec.clusterIP}:443\n`);
    expect(inPod("incluster", "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace").stdout).toBe("default");
    expect(inPod("incluster", "cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt").stdout).toBe(readFileSync(join(c.home, "pki", "ca.crt"), "utf8"));
    expect(inPod("incluster", "/opt/bin/kubectl auth whoami -o jsonpath='{.status.userInfo.username}'").stdout).toBe("system:serviceaccount:default:default");
    // The default account may do nothing more, until a binding says so.
    expect(inPod("incluster", "/opt/bin/kubectl get pods").stderr).toContain('pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default"');
    ok(["create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount=default:default"]);
    await waitFor(() => inPod("incluster", "/opt/bin/kubectl get pod incluster -o name").stdout === "pod/incluster\n", "the view binding to let the pod read pods", 30_000, 250);
    expect(inPod("incluster", "/opt/bin/kubectl delete pod notoken").stderr).toContain('pods "notoken" is forbidden');

    // automountServiceAccountToken: false — no token, and no in-cluster config.
    expect(inPod("notoken", "ls /var/run/secrets/kubernetes.io/serviceaccount").code).not.toBe(0);
    ok(["delete", "pod", "incluster", "notoken", "--grace-period=1"]);
    ok(["delete", "rolebinding", "default-view"]);
  });
});
