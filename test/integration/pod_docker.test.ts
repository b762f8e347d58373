/**
 * Pods on a real Docker engine, driven by a real node agent against a real API.
 */
import { describe, expect, test } from "vitest";
import { HOST_PORTS_ANNOTATION } from "../../model/pod.ts";
import { podExec } from "../../runtime/kubelet/pod_containers.ts";
import { claimVolumeName } from "../../model/container_runtime.ts";
import { SELECTED_NODE_ANNOTATION } from "../../model/types.ts";
import {
  containerStatus,
  eventsFor,
  getPod,
  pod,
  usePodEnv,
  waitFor,
  waitGone,
  waitRunning,
} from "../helpers/pod_fixture.ts";

const BB = "berth/busybox";
const env = usePodEnv();

describe("pods on Docker", () => {
  test("setHostnameAsFQDN: the kernel hostname is the pod's FQDN", async () => {
    await env.api.create("pods", pod("fqdn", env.node, { subdomain: "web", setHostnameAsFQDN: true, containers: [{ name: "c", image: BB, command: ["sleep", "3600"] }] }));
    const p = await waitRunning(env.api, "fqdn");
    expect((await podExec(env.rt, p, "c", ["hostname"])).stdout.trim()).toBe("fqdn.web.default.svc.cluster.local");
  });

  test("a container's termination message is what it wrote to its terminationMessagePath (any user may write it), or with FallbackToLogsOnError and a failure, its log's tail", async () => {
    await env.api.create("pods", pod("farewell", env.node, {
      restartPolicy: "Never",
      containers: [
        { name: "file", image: BB, command: ["sh", "-c", "printf bye > /dev/termination-log; exit 3"] },
        { name: "custom", image: BB, command: ["sh", "-c", "printf custom > /tmp/msg"], terminationMessagePath: "/tmp/msg", securityContext: { runAsUser: 1000 } },
        { name: "fallback", image: BB, command: ["sh", "-c", "echo first; echo boom; exit 2"], terminationMessagePolicy: "FallbackToLogsOnError" },
        { name: "fine", image: BB, command: ["sh", "-c", "echo all good"], terminationMessagePolicy: "FallbackToLogsOnError" },
      ],
    }));
    const p = await waitFor(async () => {
      const x = await getPod(env.api, "farewell");
      return (x.status?.containerStatuses ?? []).length === 4 && x.status!.containerStatuses!.every((s) => s.state.terminated) ? x : undefined;
    }, "every container terminated", 30_000);
    const terminated = (name: string) => containerStatus(p, name)!.state.terminated!;
    expect(terminated("file")).toMatchObject({ exitCode: 3, message: "bye" });
    expect(terminated("custom")).toMatchObject({ exitCode: 0, message: "custom" });
    expect(terminated("fallback")).toMatchObject({ exitCode: 2, message: "first\nboom\n" });
    expect(terminated("fine").exitCode).toBe(0);
    expect(terminated("fine").message).toBeUndefined();
  });

  test("hostAliases are in /etc/hosts, dnsConfig is merged into resolv.conf, and with shareProcessNamespace one container sees the other's processes", async () => {
    await env.api.create("pods", pod("aliased", env.node, {
      hostAliases: [{ ip: "10.1.2.3", hostnames: ["foo.local", "bar.local"] }],
      dnsConfig: { searches: ["extra.example"], options: [{ name: "ndots", value: "2" }] },
      shareProcessNamespace: true,
      containers: [
        { name: "a", image: BB, command: ["sleep", "7777"] },
        { name: "b", image: BB, command: ["sleep", "3600"] },
      ],
    }));
    const p = await waitRunning(env.api, "aliased");
    const run = async (c: string, cmd: string) => (await podExec(env.rt, p, c, ["sh", "-c", cmd])).stdout;
    expect(await run("b", "cat /etc/hosts")).toMatch(/^10\.1\.2\.3\s+foo\.local$[\s\S]*^10\.1\.2\.3\s+bar\.local$/m);
    const resolv = await run("a", "cat /etc/resolv.conf");
    expect(resolv).toMatch(/^search .*\bextra\.example\b/m);
    expect(resolv).toMatch(/^options .*\bndots:2\b/m);
    expect(await run("b", "ps -o args")).toContain("sleep 7777");
  });

  test("two containers in one pod exchange data over localhost, and the port is published on the host", async () => {
    await env.api.create("pods", pod("duo", env.node, {
      containers: [
        { name: "srv", image: BB, command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"], ports: [{ containerPort: 8080 }] },
        { name: "cli", image: BB, command: ["sh", "-c", "until wget -q -O /tmp/got http://localhost:8080/; do sleep 0.2; done; sleep 3600"] },
      ],
    }));
    const p = await waitRunning(env.api, "duo");
    const got = await waitFor(async () => {
      const r = await podExec(env.rt, await getPod(env.api, "duo"), "cli", ["cat", "/tmp/got"]);
      return r.exitCode === 0 ? r.stdout : undefined;
    }, "cli fetched from srv over localhost");
    expect(got).toContain("berth busybox base image");
    expect(p.status?.podIP).toMatch(/^10\.213\./);
    expect(p.status?.hostIP).toBe("127.0.0.1");
    const annotated = await waitFor(async () => (await getPod(env.api, "duo")).metadata.annotations?.[HOST_PORTS_ANNOTATION], "host-ports annotation");
    const hostPort = JSON.parse(annotated)["8080/TCP"];
    const res = await fetch(`http://127.0.0.1:${hostPort}/`);
    expect(await res.text()).toContain("berth busybox base image");
  });

  test("an emptyDir file written by one container is read by the other", async () => {
    await env.api.create("pods", pod("shared", env.node, {
      volumes: [{ name: "scratch", emptyDir: {} }],
      containers: [
        { name: "writer", image: BB, command: ["sh", "-c", "echo hello-from-writer > /data/msg; sleep 3600"], volumeMounts: [{ name: "scratch", mountPath: "/data" }] },
        { name: "reader", image: BB, command: ["sleep", "3600"], volumeMounts: [{ name: "scratch", mountPath: "/in" }] },
      ],
    }));
    await waitRunning(env.api, "shared");
    const out = await waitFor(async () => {
      const r = await podExec(env.rt, await getPod(env.api, "shared"), "reader", ["cat", "/in/msg"]);
      return r.exitCode === 0 ? r.stdout : undefined;
    }, "reader sees writer's file");
    expect(out.trim()).toBe("hello-from-writer");
  });

  test("a claim's volume keeps its data across deleting and re-creating the pod", async () => {
    const claim = `claim-${Date.now().toString(36)}`;
    // No scheduler here: as in Kubernetes, a pod bound by hand needs its claim placed on its node.
    const pvc = await env.api.create("persistentvolumeclaims", {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: claim, annotations: { [SELECTED_NODE_ANNOTATION]: env.node } },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    }, "default");
    const spec = (cmd: string) => ({
      volumes: [{ name: "store", persistentVolumeClaim: { claimName: claim } }],
      containers: [{ name: "c", image: BB, command: ["sh", "-c", cmd], volumeMounts: [{ name: "store", mountPath: "/store" }] }],
    });
    await env.api.create("pods", pod("keeper", env.node, spec("echo kept > /store/f; sleep 3600")));
    await waitRunning(env.api, "keeper");
    await waitFor(async () => (await podExec(env.rt, await getPod(env.api, "keeper"), "c", ["cat", "/store/f"])).stdout.includes("kept"), "file written");
    // The claim's own volume, on this node (cleanup removes it by that label).
    expect((await env.rt.listVolumes({ "berth.claim.uid": pvc.metadata.uid! })).map((v) => v.name)).toEqual([claimVolumeName(pvc.metadata.uid!)]);
    await env.api.delete("pods", "keeper", "default");
    await waitGone(env.api, "keeper");
    await env.api.create("pods", pod("keeper", env.node, spec("sleep 3600")));
    await waitRunning(env.api, "keeper");
    const r = await podExec(env.rt, await getPod(env.api, "keeper"), "c", ["cat", "/store/f"]);
    expect(r.stdout.trim()).toBe("kept");
  });

  test("activeDeadlineSeconds: the node stops a pod past its deadline and fails it (DeadlineExceeded); its stopped containers stay until it is deleted", async () => {
    await env.api.create("pods", pod("deadline", env.node, {
      activeDeadlineSeconds: 2,
      terminationGracePeriodSeconds: 1,
      // PID 1 without a SIGTERM handler: the stop ends with SIGKILL after the grace period.
      containers: [{ name: "c", image: BB, command: ["sleep", "3600"] }],
    }));
    const running = await waitRunning(env.api, "deadline");
    const p = await waitFor(async () => {
      const x = await getPod(env.api, "deadline");
      return x.status?.phase === "Failed" ? x : undefined;
    }, "Failed after the deadline", 30_000);
    expect(p.status).toMatchObject({ reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" });
    expect(containerStatus(p, "c")!.state.terminated).toMatchObject({ exitCode: 137, reason: "Error" });
    expect(containerStatus(p, "c")!.restartCount).toBe(0);
    const uid = running.metadata.uid!;
    const apps = await env.rt.listContainers({ "berth.pod.uid": uid, "berth.role": "app" });
    expect(apps.map((c) => c.state)).toEqual(["exited"]);
    expect((await eventsFor(env.api, "deadline")).map((e) => e.reason)).toEqual(expect.arrayContaining(["DeadlineExceeded", "Killing"]));
    // A finished pod's object goes at once (kube deletes a pod in a terminal phase without grace); the node then removes its containers.
    await env.api.delete("pods", "deadline", "default");
    await waitGone(env.api, "deadline");
    await waitFor(async () => (await env.rt.listContainers({ "berth.pod.uid": uid })).length === 0, "its containers removed");
  });

  test("deleting a pod stops and removes its containers and emptyDir volumes", async () => {
    await env.api.create("pods", pod("doomed", env.node, {
      volumes: [{ name: "tmp", emptyDir: {} }],
      containers: [{ name: "c", image: BB, command: ["sleep", "3600"], volumeMounts: [{ name: "tmp", mountPath: "/tmp/x" }] }],
    }));
    const p = await waitRunning(env.api, "doomed");
    const uid = p.metadata.uid!;
    expect((await env.rt.listContainers({ "berth.pod.uid": uid })).length).toBe(2);
    expect((await env.rt.listVolumes({ "berth.pod.uid": uid })).length).toBe(1);
    await env.api.delete("pods", "doomed", "default");
    await waitGone(env.api, "doomed");
    expect(await env.rt.listContainers({ "berth.pod.uid": uid })).toEqual([]);
    expect(await env.rt.listVolumes({ "berth.pod.uid": uid })).toEqual([]);
    const killing = (await eventsFor(env.api, "doomed")).find((e) => e.reason === "Killing");
    expect(killing?.message).toContain("Stopping container c");
  });

  test("an image absent locally gives ErrImageNeverPull and a Warning event, never a pull", async () => {
    await env.api.create("pods", pod("noimage", env.node, { containers: [{ name: "c", image: "berth/does-not-exist:1.0", imagePullPolicy: "Never" }] }));
    const p = await waitFor(async () => {
      const p = await getPod(env.api, "noimage");
      return containerStatus(p, "c")?.state.waiting?.reason === "ErrImageNeverPull" ? p : undefined;
    }, "ErrImageNeverPull");
    expect(p.status?.phase).toBe("Pending");
    expect(containerStatus(p, "c")?.state.waiting?.message).toContain("berth/does-not-exist:1.0");
    const ev = await waitFor(async () => (await eventsFor(env.api, "noimage")).find((e) => e.reason === "ErrImageNeverPull"), "event");
    expect(ev.type).toBe("Warning");
  });

  test("a command that does not exist reports ContainerCannotRun, a Failed event, then CrashLoopBackOff", async () => {
    await env.api.create("pods", pod("nocmd", env.node, { containers: [{ name: "c", image: BB, command: ["/no/such/binary"] }] }));
    const p = await waitFor(async () => {
      const p = await getPod(env.api, "nocmd");
      const s = containerStatus(p, "c");
      return s?.lastState?.terminated?.reason === "ContainerCannotRun" && (s.restartCount ?? 0) >= 1 ? p : undefined;
    }, "ContainerCannotRun in lastState");
    expect(containerStatus(p, "c")?.lastState?.terminated?.exitCode).toBe(127);
    const failed = (await eventsFor(env.api, "nocmd")).find((e) => e.reason === "Failed");
    expect(failed?.message).toContain("/no/such/binary");
    await waitFor(async () => containerStatus(await getPod(env.api, "nocmd"), "c")?.state.waiting?.reason === "CrashLoopBackOff", "CrashLoopBackOff");
  });
});
