/**
 * kubectl 1.32 (the one on PATH) driving apps/v1 Deployments and node drain against a whole
 * cluster on real Docker (`berth up --nodes 2`): `kubectl create deployment`, `get deploy,rs`,
 * `scale deploy`, `set image` → `rollout status` → `rollout history` → `rollout undo`, with the
 * number of Ready pods sampled all along and never below `replicas - maxUnavailable`; then
 * `kubectl drain node-2 --ignore-daemonsets --delete-emptydir-data --force` (its evictions and
 * deletes carry protobuf bodies) with an RC's pods coming up on node-1; and batch/v1 Jobs
 * (`kubectl create job`, `wait --for=condition=complete|failed`, `logs job/`) and CronJobs
 * (`kubectl create cronjob`, `create job --from=cronjob/`); the example DaemonSet; and the example
 * StatefulSet (ordered pods with their own claims and DNS names, data kept across a pod's
 * re-creation, `rollout history|undo`, claims kept after the set is deleted).
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Docker from "dockerode";
import { waitFor } from "../helpers/nats.ts";
import { startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";

const V2 = { repo: "berth/busybox", tag: "e2e-rollout-v2" };

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { image: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

describe.sequential("kubectl workloads on a cluster on Docker (berth up --nodes 2)", () => {
  let c: BerthUpCluster;

  const ok = (args: string[], timeoutMs?: number): string => {
    const r = c.kubectl(args, { timeoutMs });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = (selector: string): PodJson[] => (JSON.parse(ok(["get", "pods", "-l", selector, "-o", "json"])) as { items: PodJson[] }).items;
  const isReady = (p: PodJson) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True");

  /** Runs `kubectl rollout status` to completion while counting Ready pods; returns the smallest count seen. */
  async function rolloutSampled(selector: string): Promise<{ minReady: number; samples: number; out: string }> {
    const child = c.spawnKubectl(["rollout", "status", "deployment/web", "--timeout=120s"]);
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    let exited: number | null | undefined;
    // "close", not "exit": the exit can come before the last of its output has been read.
    child.on("close", (code) => (exited = code));
    let minReady = Infinity;
    let samples = 0;
    while (exited === undefined) {
      minReady = Math.min(minReady, pods(selector).filter(isReady).length);
      samples++;
      await new Promise((r) => setImmediate(r));
    }
    if (exited !== 0) throw new Error(`kubectl rollout status exited ${exited}: ${out}`);
    return { minReady, samples, out };
  }

  beforeAll(async () => {
    // Usage every 2 s and autoscalers synced every 2 s (not 10 s and 15 s): the autoscale case
    // waits for a few of each.
    c = await startBerthUpCluster("kubectl-workloads", ["--nodes", "2", "--hpa-sync-period", "2s", "--usage-report-interval", "2s"]);
    // A second tag of the local image, so `set image` has something real to roll out.
    await new Docker().getImage("berth/busybox:latest").tag(V2);
  }, 720_000);

  afterAll(async () => {
    await stopBerthUpCluster(c);
    await new Docker().getImage(`${V2.repo}:${V2.tag}`).remove().catch(() => {});
  }, 180_000);

  it("kubectl create deployment, get deploy,rs with Kubernetes' columns, and scale deploy", async () => {
    ok(["create", "deployment", "web", "--image=berth/busybox:latest", "--replicas=3", "--", "httpd", "-f", "-p", "8080"]);
    await waitFor(async () => pods("app=web").filter(isReady).length === 3, "3 ready web pods", 60_000);
    await waitFor(async () => /^web\s+3\/3\s+3\s+3\s+/m.test(ok(["get", "deploy"])), "deploy web 3/3", 30_000);
    const out = ok(["get", "deploy,rs"]);
    expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/m);
    expect(out).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/m);
    expect(out).toMatch(/^replicaset\.apps\/web-[a-z0-9]+\s+3\s+3\s+3\s+/m);
    ok(["scale", "deploy", "web", "--replicas=4"]);
    await waitFor(async () => pods("app=web").filter(isReady).length === 4, "4 ready web pods", 60_000);
  }, 120_000);

  it("kubectl set image → rollout status → rollout history → rollout undo, Ready pods never below replicas - maxUnavailable", async () => {
    // 4 replicas, the defaults 25%/25%: maxUnavailable 1, maxSurge 1.
    ok(["set", "image", "deployment/web", `busybox=${V2.repo}:${V2.tag}`]);
    const roll = await rolloutSampled("app=web");
    expect(roll.out).toContain('deployment "web" successfully rolled out');
    expect(roll.samples).toBeGreaterThan(1);
    expect(roll.minReady).toBeGreaterThanOrEqual(4 - 1);
    expect(pods("app=web").filter(isReady).map((p) => p.spec.containers[0].image)).toEqual(Array(4).fill(`${V2.repo}:${V2.tag}`));

    const history = ok(["rollout", "history", "deployment/web"]);
    expect(history).toMatch(/^REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/m);
    expect(ok(["get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"])).toBe("2");

    expect(ok(["rollout", "undo", "deployment/web"])).toContain("deployment.apps/web rolled back");
    const undo = await rolloutSampled("app=web");
    expect(undo.minReady).toBeGreaterThanOrEqual(4 - 1);
    await waitFor(async () => {
      const ready = pods("app=web").filter(isReady);
      return ready.length === 4 && ready.every((p) => p.spec.containers[0].image === "berth/busybox:latest");
    }, "4 ready pods of the old image", 60_000);
    expect(ok(["get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"])).toBe("3");
  }, 300_000);

  it("kubectl rollout pause, resume and restart", async () => {
    ok(["rollout", "pause", "deployment/web"]);
    ok(["set", "image", "deployment/web", `busybox=${V2.repo}:${V2.tag}`]);
    expect(ok(["get", "rs", "-l", "app=web", "--no-headers"]).trim().split("\n")).toHaveLength(2);
    ok(["rollout", "resume", "deployment/web"]);
    expect((await rolloutSampled("app=web")).minReady).toBeGreaterThanOrEqual(3);
    ok(["rollout", "restart", "deployment/web"]);
    expect((await rolloutSampled("app=web")).minReady).toBeGreaterThanOrEqual(3);
    expect(ok(["get", "rs", "-l", "app=web", "--no-headers"]).trim().split("\n")).toHaveLength(3);
  }, 300_000);

  it("kubectl drain node-2 evicts its pods (protobuf bodies), cordons it, and the RC's pods come up on node-1", async () => {
    ok(["delete", "deployment", "web", "--ignore-not-found"]);
    // Its pods (the default 30 s grace period; busybox's sleep ignores SIGTERM) would hold the
    // drain below that long: once the garbage collector has taken the ReplicaSets, a shorter
    // grace period hurries them, whether or not their deletion has begun.
    await waitFor(async () => ok(["get", "rs", "-l", "app=web", "-o", "name"]).trim() === "", "the Deployment's ReplicaSets gone", 60_000);
    ok(["delete", "pods", "-l", "app=web", "--grace-period=1", "--ignore-not-found"], 60_000);
    const rc = `apiVersion: v1
kind: ReplicationController
metadata: {name: drained}
spec:
  replicas: 4
  selector: {app: drained}
  template:
    metadata: {labels: {app: drained}}
    spec:
      terminationGracePeriodSeconds: 1
      volumes: [{name: scratch, emptyDir: {}}]
      containers:
      - {name: c, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sleep, "3600"], volumeMounts: [{name: scratch, mountPath: /scratch}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bare, labels: {app: bare}}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sleep, "3600"]}
`;
    const created = c.kubectl(["create", "-f", "-"], { stdin: rc });
    expect(created.code, created.stderr).toBe(0);
    await waitFor(async () => pods("app=drained").filter(isReady).length === 4 && pods("app=bare").filter(isReady).length === 1, "4 rc pods and the bare pod ready", 60_000);

    const r = c.kubectl(["drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=90s"], { timeoutMs: 120_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain("node/node-2 drained");
    // (\b: kubectl's throttling lines carry timestamps whose digits may contain 415)
    expect(r.stderr).not.toMatch(/UnsupportedMediaType|\b415\b/);
    expect(ok(["get", "node", "node-2", "-o", "jsonpath={.spec.unschedulable}"])).toBe("true");
    expect(ok(["get", "nodes", "node-2", "--no-headers"])).toMatch(/SchedulingDisabled/);
    await waitFor(async () => {
      const ready = pods("app=drained").filter(isReady);
      return ready.length === 4 && ready.every((p) => p.spec.nodeName === "node-1");
    }, "4 ready rc pods, all on node-1", 90_000);
    expect(pods("app=bare")).toEqual([]);
    ok(["uncordon", "node-2"]);
    expect(ok(["get", "node", "node-2", "-o", "jsonpath={.spec.unschedulable}"])).toBe("");
  }, 240_000);

  it("kubectl create job runs a container to completion on Docker: wait --for=condition=complete, logs job/, get jobs; a failing job fails", async () => {
    ok(["create", "job", "hello", "--image=berth/busybox:latest", "--", "sh", "-c", "echo hello from a job"]);
    ok(["wait", "--for=condition=complete", "job/hello", "--timeout=90s"], 120_000);
    expect(ok(["logs", "job/hello"])).toContain("hello from a job");
    expect(ok(["get", "jobs", "hello", "--no-headers"])).toMatch(/^hello\s+Complete\s+1\/1\s+/);
    expect(pods("job-name=hello").map((p) => p.status?.phase)).toEqual(["Succeeded"]);

    const failing = `apiVersion: batch/v1
kind: Job
metadata: {name: failing}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sh, -c, "exit 3"]}
`;
    const applied = c.kubectl(["apply", "-f", "-"], { stdin: failing });
    expect(applied.code, applied.stderr).toBe(0);
    ok(["wait", "--for=condition=failed", "job/failing", "--timeout=90s"], 120_000);
    expect(ok(["get", "job", "failing", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}"])).toBe("BackoffLimitExceeded");
    const [pod] = pods("job-name=failing");
    expect(pod.status?.phase).toBe("Failed");
    expect(ok(["get", "pod", pod.metadata.name, "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"])).toBe("3");
    // Applying the same manifest again changes nothing and is no error (the selector the API generated stays).
    const again = c.kubectl(["apply", "-f", "-"], { stdin: failing });
    expect(again.code, again.stderr).toBe(0);
    ok(["delete", "job", "hello", "failing"]);
    await waitFor(async () => pods("job-name in (hello,failing)").length === 0, "the jobs' pods deleted", 60_000);
  }, 240_000);

  it("kubectl create cronjob, then create job --from=cronjob/ runs its template at once on Docker; deleting the cronjob takes that job", async () => {
    ok(["create", "cronjob", "nightly", "--image=berth/busybox:latest", "--schedule=0 3 * * *", "--", "sh", "-c", "echo nightly run"]);
    expect(ok(["get", "cronjob", "nightly", "--no-headers"])).toMatch(/^nightly\s+0 3 \* \* \*\s+<none>\s+False\s+0\s+<none>\s+/);
    ok(["create", "job", "nightly-now", "--from=cronjob/nightly"]);
    ok(["wait", "--for=condition=complete", "job/nightly-now", "--timeout=90s"], 120_000);
    expect(ok(["logs", "job/nightly-now"])).toContain("nightly run");
    expect(ok(["get", "job", "nightly-now", "-o", "jsonpath={.metadata.ownerReferences[0].kind}"])).toBe("CronJob");
    ok(["delete", "cronjob", "nightly"]);
    await waitFor(async () => c.kubectl(["get", "job", "nightly-now"]).code !== 0, "the cronjob's job deleted with it", 60_000);
  }, 180_000);

  it("kubectl apply of the example DaemonSet puts one pod on each node; rollout status, rollout restart and delete work on Docker", async () => {
    ok(["apply", "-f", fileURLToPath(new URL("../../examples/workloads/node-agent-daemonset.yaml", import.meta.url))]);
    expect(ok(["rollout", "status", "ds/node-agent", "--timeout=120s"], 150_000)).toContain('daemon set "node-agent" successfully rolled out');
    expect(ok(["get", "ds", "node-agent", "--no-headers"])).toMatch(/^node-agent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+/);
    const first = pods("app=node-agent").filter(isReady);
    expect(first.map((p) => p.spec.nodeName).sort()).toEqual(["node-1", "node-2"]);
    // The pod knows its node (downward API), and answers on its port.
    const node = first[0].spec.nodeName;
    expect(ok(["exec", first[0].metadata.name, "--", "wget", "-qO-", "http://127.0.0.1:9100/"]).trim()).toBe(node);

    ok(["rollout", "restart", "ds/node-agent"]);
    expect(ok(["rollout", "status", "ds/node-agent", "--timeout=120s"], 150_000)).toContain("successfully rolled out");
    await waitFor(async () => {
      const now = pods("app=node-agent");
      return now.length === 2 && now.every(isReady) && !now.some((p) => first.some((f) => f.metadata.name === p.metadata.name));
    }, "both pods replaced by the restart", 90_000);
    ok(["delete", "ds", "node-agent"]);
    await waitFor(async () => pods("app=node-agent").length === 0, "the daemon's pods deleted with it", 60_000);
  }, 360_000);

  it("kubectl apply of the example StatefulSet: pods in order with their own claims and DNS names, data kept when a pod is made again, rollout undo, claims kept after", async () => {
    ok(["apply", "-f", fileURLToPath(new URL("../../examples/workloads/counter-statefulset.yaml", import.meta.url))]);
    expect(ok(["rollout", "status", "sts/counter", "--timeout=150s"], 180_000)).toContain("partitioned roll out complete: 2 new pods have been updated");
    expect(ok(["get", "sts", "counter", "--no-headers"])).toMatch(/^counter\s+2\/2\s+/);
    expect(ok(["get", "pvc", "-l", "app=counter", "--no-headers"]).trim().split("\n").map((l) => l.split(/\s+/).slice(0, 2).join(" "))).toEqual(["data-counter-0 Bound", "data-counter-1 Bound"]);
    // Each pod by its stable DNS name, from the other one.
    expect(ok(["exec", "counter-1", "--", "wget", "-qO-", "http://counter-0.counter:8080/"]).trim()).toBe("counter-0 boots=1");
    expect(ok(["exec", "counter-0", "--", "wget", "-qO-", "http://counter-1.counter.default.svc.cluster.local:8080/"]).trim()).toBe("counter-1 boots=1");
    // counter-0 deleted comes back under its name, on its claim's node, with its data.
    const node0 = pods("app=counter").find((p) => p.metadata.name === "counter-0")!.spec.nodeName;
    ok(["delete", "pod", "counter-0"]);
    await waitFor(async () => pods("app=counter").some((p) => p.metadata.name === "counter-0" && isReady(p)), "counter-0 made again", 120_000);
    expect(pods("app=counter").find((p) => p.metadata.name === "counter-0")!.spec.nodeName).toBe(node0);
    expect(ok(["exec", "counter-1", "--", "wget", "-qO-", "http://counter-0.counter:8080/"]).trim()).toBe("counter-0 boots=2");
    // A new template, then back: rollout history and undo.
    ok(["set", "env", "sts/counter", "GREETING=hello"]);
    expect(ok(["rollout", "status", "sts/counter", "--timeout=150s"], 180_000)).toContain("2 new pods have been updated");
    expect(ok(["rollout", "history", "sts/counter"])).toMatch(/1\s+<none>[\s\S]*2\s+<none>/);
    ok(["rollout", "undo", "sts/counter"]);
    expect(ok(["rollout", "status", "sts/counter", "--timeout=150s"], 180_000)).toContain("2 new pods have been updated");
    expect(ok(["get", "sts", "counter", "-o", "jsonpath={.spec.template.spec.containers[0].env}"]).trim()).toBe("");
    // Deleting the set leaves the claims (retention policy Retain, the default).
    ok(["delete", "sts", "counter"]);
    await waitFor(async () => pods("app=counter").length === 0, "the set's pods deleted with it", 90_000);
    expect(ok(["get", "pvc", "-l", "app=counter", "--no-headers"]).trim().split("\n")).toHaveLength(2);
    ok(["delete", "pvc", "-l", "app=counter", "--timeout=60s"], 90_000);
    ok(["delete", "svc", "counter"]);
  }, 600_000);

  it("kubectl set resources, then kubectl autoscale: a Deployment whose pod burns its cpu limit is scaled up to --max from its measured usage; get and describe hpa show it", async () => {
    // As the README's lines. The pod spins, and stops on SIGTERM: the first pod, without a limit,
    // must not go on spinning through its grace period beside the one `set resources` makes
    // (on a small machine it starves that one, whose first samples then read low).
    ok(["create", "deployment", "burn", "--image=berth/busybox:latest", "--replicas=1", "--", "sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]);
    ok(["set", "resources", "deployment", "burn", "--requests=cpu=50m", "--limits=cpu=100m"]);
    ok(["autoscale", "deployment", "burn", "--min=1", "--max=3", "--cpu-percent=50"]);
    try {
      // ~100m used of 50m requested (200 %) against 50 %: 1 → 3 at the first sync that has a
      // measured sample (or 1 → 2 → 3 if that sample caught less, on a busy machine).
      await waitFor(async () => ok(["get", "deployment", "burn", "-o", "jsonpath={.spec.replicas}"]) === "3", "the autoscaler to scale burn to 3", 120_000, 500);
      // Then the autoscaler's view settles: it has seen its 3 pods (REPLICAS is the count it last
      // saw), and still wants more than --max.
      await waitFor(() => {
        const row = ok(["get", "hpa", "burn", "--no-headers"]);
        expect(row).toMatch(/^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+3\s+3\s+/);
        expect(Number(/cpu: (\d+)%/.exec(row)![1])).toBeGreaterThan(55);
        const described = ok(["describe", "hpa", "burn"]);
        expect(described).toMatch(/Deployment pods:\s+3 current \/ 3 desired/);
        expect(described).toMatch(/SuccessfulRescale\s+.*New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);
        expect(described).toMatch(/ScalingLimited\s+True\s+TooManyReplicas/);
        return true;
      }, "get and describe hpa to show burn at 3 of 3, limited by --max", 60_000, 500);
    } finally {
      ok(["delete", "hpa", "burn", "--ignore-not-found"]);
      ok(["delete", "deployment", "burn", "--ignore-not-found"]);
      await waitFor(async () => ok(["get", "rs", "-l", "app=burn", "-o", "name"]).trim() === "", "burn's ReplicaSet gone", 60_000);
      ok(["delete", "pods", "-l", "app=burn", "--grace-period=1", "--ignore-not-found"], 60_000);
    }
  }, 300_000);
});

