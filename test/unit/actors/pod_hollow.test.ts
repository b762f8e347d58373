/**
 * The real pod actor on the hollow runtime, with status and events captured in memory (no API).
 */
import { afterEach, describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { type PodEvent, podActsOn, podMachine } from "../../../actors/pod.ts";
import type { Pod, PodStatus } from "../../../model/types.ts";
import { HOLLOW_ANNOTATIONS, HollowRuntime } from "../../../runtime/containers/hollow.ts";
import type { NetworkProbe } from "../../../model/container_runtime.ts";
import { podEffects } from "../../../runtime/kubelet/pod_effects.ts";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function run(pod: Pod, rt = new HollowRuntime()) {
  const statuses: PodStatus[] = [];
  const events: PodEvent[] = [];
  const actor = createActor(podMachine.provide({
    actors: podEffects(rt, { node: "h1" }).actors,
    actions: {
      reportStatus: (_, p) => void statuses.push(p.status),
      recordEvents: (_, p) => void events.push(...p.events),
    },
  }), { input: { pod, node: "h1", hostIP: "127.0.0.1", backoff: { baseMs: 50, maxMs: 400 }, resyncMs: 200, retryMs: 50 } });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  // Forward runtime events as the node agent does.
  let closed = false;
  void rt.events({ "berth.pod.uid": pod.metadata.uid! }).then(async (evs) => {
    stops.push(() => evs.close());
    if (closed) evs.close();
    for await (const ev of evs) actor.send({ type: "RUNTIME_EVENT", event: ev });
  }).catch(() => {});
  stops.push(() => {
    closed = true;
    actor.stop();
  });
  const last = () => statuses[statuses.length - 1];
  const until = async (f: () => boolean, what: string, ms = 5000) => {
    const end = Date.now() + ms;
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { actor, rt, statuses, events, errors, last, until };
}

function hpod(name: string, annotations: Record<string, string>, extra: Partial<Pod["spec"]> = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, annotations },
    spec: { nodeName: "h1", containers: [{ name: "c", image: "berth/busybox" }], ...extra },
  };
}

describe("pod actor on the hollow runtime", () => {
  test("a container scripted to exit 0 under restartPolicy Never makes the pod Succeeded", async () => {
    const h = run(hpod("ok", { [HOLLOW_ANNOTATIONS.runFor]: "0.05" }, { restartPolicy: "Never" }));
    await h.until(() => h.last()?.phase === "Succeeded", "Succeeded");
    expect(h.last()?.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(h.actor.getSnapshot().matches({ active: "completed" })).toBe(true);
    expect(h.events.map((e) => e.reason)).toEqual(expect.arrayContaining(["Pulled", "Created", "Started"]));
  });

  test("a non-zero exit under Never makes the pod Failed with the exit code", async () => {
    const h = run(hpod("bad", { [HOLLOW_ANNOTATIONS.runFor]: "0.05", [HOLLOW_ANNOTATIONS.exitCode]: "7" }, { restartPolicy: "Never" }));
    await h.until(() => h.last()?.phase === "Failed", "Failed");
    expect(h.last()?.containerStatuses?.[0].state.terminated).toMatchObject({ exitCode: 7, reason: "Error" });
  });

  test("OnFailure restarts a failing container with growing back-off", async () => {
    const h = run(hpod("flaky", { [HOLLOW_ANNOTATIONS.runFor]: "0", [HOLLOW_ANNOTATIONS.exitCode]: "1" }, { restartPolicy: "OnFailure" }));
    await h.until(() => (h.last()?.containerStatuses?.[0].restartCount ?? 0) >= 4, "4 restarts");
    expect(h.statuses.some((s) => s.containerStatuses?.[0].state.waiting?.reason === "CrashLoopBackOff")).toBe(true);
    expect(h.events.some((e) => e.reason === "BackOff")).toBe(true);
    expect(h.errors).toEqual([]);
  });

  test("a start error is ContainerCannotRun with a Failed event", async () => {
    const h = run(hpod("nostart", { [HOLLOW_ANNOTATIONS.startError]: "exec: not found" }, { restartPolicy: "Never" }));
    await h.until(() => h.last()?.phase === "Failed", "Failed");
    expect(h.last()?.containerStatuses?.[0].state.terminated).toMatchObject({ reason: "ContainerCannotRun", message: "exec: not found" });
    expect(h.events.find((e) => e.reason === "Failed")?.message).toContain("exec: not found");
  });

  test("scripted probe failure keeps the pod not Ready and liveness restarts the container", async () => {
    const p = hpod("sick", { [HOLLOW_ANNOTATIONS.probeFail]: "true" });
    p.spec.containers[0].readinessProbe = { httpGet: { port: 80 }, periodSeconds: 0.05 as number, failureThreshold: 1 };
    p.spec.containers[0].livenessProbe = { tcpSocket: { port: 80 }, periodSeconds: 0.05 as number, failureThreshold: 2 };
    const h = run(p);
    await h.until(() => (h.last()?.containerStatuses?.[0].restartCount ?? 0) >= 1, "liveness restart");
    expect(h.statuses.every((s) => s.conditions?.find((c) => c.type === "Ready")?.status !== "True")).toBe(true);
    expect(h.events.some((e) => e.reason === "Unhealthy" && e.message.startsWith("Liveness"))).toBe(true);
  });

  test("grpc probes are answered by the hollow runtime as tcpSocket ones: Ready when they pass, a restart when liveness fails", async () => {
    const rt = new HollowRuntime();
    const asked: NetworkProbe[] = [];
    const answer = rt.probe.bind(rt);
    rt.probe = (req) => {
      asked.push(req);
      return answer(req);
    };
    const well = hpod("grpc-well", {});
    well.spec.containers[0].readinessProbe = { grpc: { port: 9000, service: "api" }, periodSeconds: 0.05 as number };
    const h = run(well, rt);
    await h.until(() => h.last()?.conditions?.find((c) => c.type === "Ready")?.status === "True", "Ready");
    expect(asked[0]).toMatchObject({ kind: "grpc", port: 9000, service: "api", container: "c" });

    const sick = hpod("grpc-sick", { [HOLLOW_ANNOTATIONS.probeFail]: "true" });
    sick.spec.containers[0].livenessProbe = { grpc: { port: 9000 }, periodSeconds: 0.05 as number, failureThreshold: 2 };
    const s = run(sick);
    await s.until(() => (s.last()?.containerStatuses?.[0].restartCount ?? 0) >= 1, "liveness restart");
    expect(s.events.find((e) => e.reason === "Unhealthy")?.message).toMatch(/^Liveness probe failed: hollow grpc probe scripted to fail/);
  });

  test("a container's start event changes nothing in any state (what podActsOn lets the supervisor drop)", async () => {
    const h = run(hpod("started", {}));
    await h.until(() => h.actor.getSnapshot().matches({ active: "running" }), "running");
    const before = h.actor.getSnapshot();
    const ids = [before.context.sandbox!.id, ...before.context.records.map((r) => r.id!)];
    for (const id of ids) h.actor.send({ type: "RUNTIME_EVENT", event: { type: "start", id, labels: {} } });
    expect(h.actor.getSnapshot()).toBe(before);
    expect(podActsOn({ type: "start", id: ids[0], labels: {} })).toBe(false);
    for (const type of ["die", "destroy", "oom"] as const) expect(podActsOn({ type, id: ids[0], labels: {} })).toBe(true);
  });

  test("a prober actor runs only for a pod with a probe, and stops with the pod", async () => {
    const plain = run(hpod("plain", {}));
    await plain.until(() => plain.last()?.phase === "Running", "plain Running");
    expect(plain.actor.getSnapshot().children.prober).toBeUndefined();

    const p = hpod("probed", {});
    p.spec.containers[0].readinessProbe = { httpGet: { port: 80 }, periodSeconds: 0.05 as number };
    const probed = run(p);
    await probed.until(() => probed.last()?.conditions?.find((c) => c.type === "Ready")?.status === "True", "probed Ready (its prober's verdict)");
    const prober = probed.actor.getSnapshot().children.prober;
    expect(prober?.getSnapshot().status).toBe("active");
    probed.actor.send({ type: "DELETE" });
    await probed.until(() => probed.actor.getSnapshot().status === "done", "probed terminated");
    expect(prober?.getSnapshot().status).toBe("stopped");
    expect(plain.errors).toEqual([]);
    expect(probed.errors).toEqual([]);
  });

  test("DELETE stops the pod, removes its containers and ends the actor", async () => {
    const h = run(hpod("bye", {}));
    await h.until(() => h.last()?.phase === "Running", "Running");
    expect(h.rt.size).toBe(2);
    h.actor.send({ type: "DELETE", graceSeconds: 0 });
    await h.until(() => h.actor.getSnapshot().status === "done", "done");
    expect(h.rt.size).toBe(0);
  });

  test("the runtime going away is retried, not fatal", async () => {
    const rt = new HollowRuntime();
    rt.available = false;
    const h = run(hpod("later", {}), rt);
    await new Promise((r) => setTimeout(r, 150));
    expect(h.actor.getSnapshot().matches({ active: "sandboxRetry" }) || h.actor.getSnapshot().matches({ active: "sandbox" })).toBe(true);
    rt.available = true;
    await h.until(() => h.last()?.phase === "Running", "Running after the runtime returns");
    expect(h.errors).toEqual([]);
  });
});
