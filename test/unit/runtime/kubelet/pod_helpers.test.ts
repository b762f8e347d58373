import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Pod } from "../../../../model/types.ts";
import type { ContainerInfo } from "../../../../model/container_runtime.ts";
import { backoffDelay, newRecord, planContainer, shouldRestart } from "../../../../actors/pod_backoff.ts";
import { computePodStatus, podPhase } from "../../../../actors/pod_status.ts";
import { applyOutcome, NEW_COUNTER, resolveProbe } from "../../../../runtime/kubelet/probe_decide.ts";
import { containerEnv, containerSpec, emptyDirPlans, expand, parseQuantity, UnresolvedClaimError, volumePlans } from "../../../../runtime/kubelet/pod_spec.ts";
import { FrameDecoder, NdjsonDecoder } from "../../../../runtime/containers/streams.ts";

const cfg = { baseMs: 10_000, maxMs: 300_000 };
const pod = (policy?: "Always" | "OnFailure" | "Never"): Pod => ({
  apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", uid: "u1" },
  spec: { restartPolicy: policy, containers: [{ name: "c", image: "berth/busybox" }] },
});
const exited = (code: number, extra: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: "a".repeat(64), labels: {}, image: "x", state: "exited", running: false, exitCode: code, oomKilled: false,
  sandboxId: "sb", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z", ...extra,
});

describe("pod back-off", () => {
  test("first restart is immediate, then 10 s doubling, capped at 5 min", () => {
    expect([1, 2, 3, 4, 5, 10, 20].map((n) => backoffDelay(n, cfg))).toEqual([0, 10_000, 20_000, 40_000, 80_000, 300_000, 300_000]);
  });
  test("back-off never decreases as crashes accumulate and never exceeds the cap", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), (n) => backoffDelay(n + 1, cfg) >= backoffDelay(n, cfg) && backoffDelay(n, cfg) <= cfg.maxMs));
  });
  test("restart policy decides by exit code", () => {
    expect([shouldRestart("Always", 0), shouldRestart("OnFailure", 0), shouldRestart("OnFailure", 1), shouldRestart("Never", 1)]).toEqual([true, false, true, false]);
  });
  test("a second crash waits in CrashLoopBackOff and keeps the exit code as lastState", () => {
    const now = Date.parse("2026-01-01T00:00:02Z");
    const rec = { ...newRecord("c"), id: "a".repeat(64), sandboxId: "sb", crashes: 1, started: true, state: { kind: "running" as const } };
    const { record, action } = planContainer(rec, exited(2), { policy: "Always", sandboxId: "sb", now, backoff: cfg });
    expect(action.type).toBe("wait");
    expect(record.state).toMatchObject({ kind: "waiting", reason: "CrashLoopBackOff" });
    expect(record.lastTerminated).toMatchObject({ exitCode: 2, reason: "Error" });
  });
  test("a container joined to an old sandbox restarts at once without back-off", () => {
    const rec = { ...newRecord("c"), id: "a".repeat(64), sandboxId: "old", crashes: 5, started: true, state: { kind: "running" as const } };
    const { record, action } = planContainer(rec, "missing", { policy: "Never", sandboxId: "new", now: Date.now(), backoff: cfg });
    expect(action).toEqual({ type: "start", removeId: "a".repeat(64) });
    expect(record.restartCount).toBe(1);
  });
  test("a failed start (command not found) is ContainerCannotRun", () => {
    const rec = { ...newRecord("c"), id: "a".repeat(64), sandboxId: "sb", started: true, state: { kind: "running" as const } };
    const { record } = planContainer(rec, exited(127, { state: "created", startedAt: undefined, error: "exec: no such file" }), { policy: "Never", sandboxId: "sb", now: Date.now(), backoff: cfg });
    expect(record.state).toMatchObject({ kind: "terminated", terminated: { exitCode: 127, reason: "ContainerCannotRun" } });
  });
});

describe("pod status", () => {
  test("phase: Never with exit 0 → Succeeded, non-zero → Failed; Always stays Running", () => {
    const term = (code: number) => [{ ...newRecord("c"), started: true, state: { kind: "terminated" as const, terminated: { exitCode: code } } }];
    expect(podPhase(pod("Never"), term(0))).toBe("Succeeded");
    expect(podPhase(pod("Never"), term(1))).toBe("Failed");
    expect(podPhase(pod("OnFailure"), term(0))).toBe("Succeeded");
    expect(podPhase(pod("Always"), term(0))).toBe("Running");
    expect(podPhase(pod("Always"), [newRecord("c")])).toBe("Pending");
  });
  test("Ready follows container readiness and keeps its transition time while unchanged", () => {
    const rec = { ...newRecord("c"), id: "x", started: true, ready: true, state: { kind: "running" as const } };
    const s1 = computePodStatus({ pod: pod(), records: [rec], hostIP: "127.0.0.1", podIP: "10.213.0.9", sandboxReady: true, terminating: false, now: "t1" });
    expect(s1.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", lastTransitionTime: "t1" });
    const s2 = computePodStatus({ pod: pod(), records: [rec], hostIP: "127.0.0.1", podIP: "10.213.0.9", sandboxReady: true, terminating: false, previous: s1, now: "t2" });
    expect(s2.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime).toBe("t1");
    const s3 = computePodStatus({ pod: pod(), records: [{ ...rec, ready: false }], hostIP: "127.0.0.1", sandboxReady: true, terminating: false, previous: s2, now: "t3" });
    expect(s3.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", lastTransitionTime: "t3", reason: "ContainersNotReady" });
    expect(s1.podIP).toBe("10.213.0.9");
  });
});

describe("probes", () => {
  test("Kubernetes defaults and named ports", () => {
    const p = resolveProbe({ name: "c", image: "i", ports: [{ name: "web", containerPort: 8080 }] }, { httpGet: { port: "web" } });
    expect(p).toMatchObject({ periodMs: 10_000, timeoutMs: 1000, failureThreshold: 3, successThreshold: 1, action: { type: "httpGet", port: 8080, path: "/" } });
  });
  test("failure needs failureThreshold consecutive failures; one success resets", () => {
    const th = { failureThreshold: 3, successThreshold: 1 };
    let c = applyOutcome(NEW_COUNTER, true, th).counter;
    expect(c.result).toBe("success");
    for (const ok of [false, false, true, false, false]) c = applyOutcome(c, ok, th).counter;
    expect(c.result).toBe("success");
    const r = applyOutcome(c, false, th);
    expect(r).toMatchObject({ changed: true, counter: { result: "failure" } });
  });
});

describe("pod spec translation", () => {
  test("quantities", () => {
    expect(parseQuantity("100m")).toBeCloseTo(0.1);
    expect(parseQuantity("128Mi")).toBe(134217728);
    expect(parseQuantity("1G")).toBe(1e9);
    expect(() => parseQuantity("lots")).toThrow(/invalid quantity/);
  });
  test("env: $(VAR) expansion, $$ escape, fieldRef", () => {
    const p = pod();
    const env = containerEnv(p, [{ name: "A", value: "x" }, { name: "B", value: "$(A)-$$(A)-$(NOPE)" }, { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }], { podIP: "10.1.1.1", hostIP: "h", nodeName: "n" });
    expect(env).toEqual({ A: "x", B: "x-$(A)-$(NOPE)", IP: "10.1.1.1" });
    expect(expand("$(A)", { A: "1" })).toBe("1");
  });
  test("env: service variables come first, the container's own env wins, $(VAR) in command/args sees them", () => {
    const p: Pod = { ...pod(), spec: { containers: [{ name: "c", image: "i", command: ["echo", "$(DB_SERVICE_HOST)"], args: ["$(DB_SERVICE_PORT)", "$(URL)"], env: [{ name: "DB_SERVICE_PORT", value: "mine" }, { name: "URL", value: "tcp://$(DB_SERVICE_HOST)" }] }] } };
    const serviceEnv = { DB_SERVICE_HOST: "10.96.0.5", DB_SERVICE_PORT: "5432" };
    const spec = containerSpec(p, p.spec.containers[0], { node: "n1", sandboxId: "sb", restartCount: 0, fields: { podIP: "", hostIP: "", nodeName: "n1" }, serviceEnv });
    expect(spec.env).toEqual({ DB_SERVICE_HOST: "10.96.0.5", DB_SERVICE_PORT: "mine", URL: "tcp://10.96.0.5" });
    expect(spec.command).toEqual(["echo", "10.96.0.5"]);
    expect(spec.args).toEqual(["mine", "tcp://10.96.0.5"]);
  });
  test("volumes: emptyDir per pod, a claim's volume named by its uid on its node, limits to Docker units", () => {
    const p: Pod = { ...pod(), spec: {
      volumes: [{ name: "e", emptyDir: {} }, { name: "v", persistentVolumeClaim: { claimName: "data" } }, { name: "h", hostPath: { path: "/tmp/x" } }],
      containers: [{ name: "c", image: "i", resources: { limits: { cpu: "500m", memory: "64Mi" } }, volumeMounts: [{ name: "e", mountPath: "/e" }, { name: "v", mountPath: "/v" }, { name: "h", mountPath: "/h", readOnly: true }] }],
    } };
    const uid = (claim: string) => (claim === "data" ? "c-uid-1" : undefined);
    const plans = volumePlans(p, "n1", undefined, undefined, uid);
    expect(plans.map((v) => v.source)).toEqual(["berth-ed-u1-e", "berth-pvc-c-uid-1", "/tmp/x"]);
    // The node that has the volume owns it (it reclaims it when the claim goes); the claim is named.
    expect(plans[1].labels).toEqual({ "berth.node": "n1", "berth.pod.namespace": "default", "berth.volume.kind": "persistent", "berth.claim": "data", "berth.claim.uid": "c-uid-1" });
    // Named by the uid, so a cluster id changes nothing: uids are unique across clusters.
    expect(volumePlans(p, "n1", "home-1", undefined, uid)[1].source).toBe("berth-pvc-c-uid-1");
    // A claim the node cannot name yet never becomes a container without its volume.
    expect(() => volumePlans(p, "n1")).toThrow(UnresolvedClaimError);
    expect(emptyDirPlans(p, "n1").map((v) => v.source)).toEqual(["berth-ed-u1-e"]);
    const spec = containerSpec(p, p.spec.containers[0], { node: "n1", sandboxId: "sb", restartCount: 0, fields: { podIP: "", hostIP: "", nodeName: "n1" }, claimUid: uid });
    expect(spec.cpus).toBe(0.5);
    expect(spec.memoryBytes).toBe(64 * 2 ** 20);
    expect(spec.mounts).toEqual([
      { type: "volume", source: "berth-ed-u1-e", target: "/e", readOnly: undefined },
      { type: "volume", source: "berth-pvc-c-uid-1", target: "/v", readOnly: undefined },
      { type: "bind", source: "/tmp/x", target: "/h", readOnly: true },
    ]);
  });
  test("a claim the pod names readOnly is mounted read-only by every container, whatever its volumeMount says", () => {
    const p: Pod = { ...pod(), spec: {
      volumes: [{ name: "v", persistentVolumeClaim: { claimName: "data", readOnly: true } }],
      containers: [{ name: "c", image: "i", volumeMounts: [{ name: "v", mountPath: "/v" }, { name: "v", mountPath: "/w", readOnly: false }] }],
    } };
    const spec = containerSpec(p, p.spec.containers[0], { node: "n1", sandboxId: "sb", restartCount: 0, fields: { podIP: "", hostIP: "", nodeName: "n1" }, claimUid: () => "c-uid-1" });
    expect(spec.mounts).toEqual([
      { type: "volume", source: "berth-pvc-c-uid-1", target: "/v", readOnly: true },
      { type: "volume", source: "berth-pvc-c-uid-1", target: "/w", readOnly: true },
    ]);
  });
});

describe("Docker stream decoding", () => {
  test("multiplexed frames survive arbitrary chunk splits", () => {
    const frame = (t: number, s: string) => {
      const body = new TextEncoder().encode(s);
      const h = new Uint8Array(8);
      h[0] = t;
      new DataView(h.buffer).setUint32(4, body.length);
      return new Uint8Array([...h, ...body]);
    };
    const all = new Uint8Array([...frame(1, "hello "), ...frame(2, "oops"), ...frame(1, "world")]);
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: all.length - 1 }), { maxLength: 6 }), (cuts) => {
      const d = new FrameDecoder();
      const pts = [0, ...cuts.sort((a, b) => a - b), all.length];
      const out = pts.slice(1).flatMap((end, i) => d.push(all.slice(pts[i], end)));
      const td = new TextDecoder();
      return out.map((f) => `${f.stream}:${td.decode(f.data)}`).join("|") === "stdout:hello |stderr:oops|stdout:world";
    }));
  });
  test("events NDJSON split mid-line is reassembled", () => {
    const d = new NdjsonDecoder();
    expect(d.push('{"Action":"die","id":"a"}\n{"Act')).toEqual([{ Action: "die", id: "a" }]);
    expect(d.push('ion":"start"}\n')).toEqual([{ Action: "start" }]);
  });
});
