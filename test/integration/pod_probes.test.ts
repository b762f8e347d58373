/**
 * Probes and restarts on real Docker: liveness (exec, HTTP, TCP), readiness, back-off growth.
 */
import { describe, expect, test } from "vitest";
import type { Pod } from "../../model/types.ts";
import { podExec } from "../../runtime/kubelet/pod_containers.ts";
import { containerStatus, eventsFor, getPod, isReady, pod, usePodEnv, waitFor, waitRunning } from "../helpers/pod_fixture.ts";

const BB = "berth/busybox";
const fast = { periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 1 };
const env = usePodEnv();

describe("probes on Docker", () => {
  test("exec, HTTP and TCP liveness probes restart failing containers and leave healthy ones alone", async () => {
    await env.api.create("pods", pod("probed", env.node, {
      containers: [
        { name: "exec-well", image: BB, command: ["sleep", "3600"], livenessProbe: { exec: { command: ["true"] }, ...fast } },
        { name: "exec-sick", image: BB, command: ["sleep", "3600"], livenessProbe: { exec: { command: ["test", "-f", "/nope"] }, ...fast } },
        { name: "http-well", image: BB, command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"], livenessProbe: { httpGet: { port: 8080, path: "/" }, ...fast } },
        { name: "http-sick", image: BB, command: ["sleep", "3600"], livenessProbe: { httpGet: { port: 8081, path: "/" }, ...fast } },
        { name: "tcp-well", image: BB, command: ["httpd", "-f", "-p", "9090", "-h", "/var/www"], livenessProbe: { tcpSocket: { port: 9090 }, ...fast } },
        { name: "tcp-sick", image: BB, command: ["sleep", "3600"], livenessProbe: { tcpSocket: { port: 9091 }, ...fast } },
      ],
    }));
    const first = await waitRunning(env.api, "probed");
    const idOf = (p: Pod, n: string) => containerStatus(p, n)?.containerID;
    const after = await waitFor(async () => {
      const p = await getPod(env.api, "probed");
      return ["exec-sick", "http-sick", "tcp-sick"].every((n) => (containerStatus(p, n)?.restartCount ?? 0) >= 1) ? p : undefined;
    }, "every sick container restarted", 30_000);
    for (const n of ["exec-well", "http-well", "tcp-well"]) {
      expect(containerStatus(after, n)?.restartCount, n).toBe(0);
      expect(idOf(after, n), n).toBe(idOf(first, n));
    }
    for (const n of ["exec-sick", "http-sick", "tcp-sick"]) expect(idOf(after, n), n).not.toBe(idOf(first, n));
    const evs = await eventsFor(env.api, "probed");
    const unhealthy = evs.filter((e) => e.reason === "Unhealthy").map((e) => e.message ?? "");
    expect(unhealthy.some((m) => m.startsWith("Liveness probe failed") && m.includes("8081"))).toBe(true);
    expect(unhealthy.some((m) => m.includes("9091"))).toBe(true);
    expect(evs.some((e) => e.reason === "Killing" && e.message?.includes("exec-sick"))).toBe(true);
  });

  test("a startup probe holds the liveness probe and readiness back until it passes (started and Ready only then); one that never passes restarts the container, its liveness probe never run", async () => {
    await env.api.create("pods", pod("slow-start", env.node, {
      containers: [
        {
          name: "slow",
          image: BB,
          // Starts in about 2 s; its liveness probe would fail before that.
          command: ["sh", "-c", "sleep 2; touch /tmp/started; exec sleep 3600"],
          startupProbe: { exec: { command: ["test", "-f", "/tmp/started"] }, periodSeconds: 1, failureThreshold: 30 },
          livenessProbe: { exec: { command: ["test", "-f", "/tmp/started"] }, ...fast },
        },
        {
          name: "never",
          image: BB,
          command: ["sleep", "3600"],
          startupProbe: { exec: { command: ["test", "-f", "/nope"] }, periodSeconds: 1, failureThreshold: 2 },
          livenessProbe: { exec: { command: ["false"] }, ...fast },
        },
      ],
    }));
    // Running but not started, hence not Ready, while the startup probe has not passed.
    const early = await waitFor(async () => {
      const p = await getPod(env.api, "slow-start");
      return containerStatus(p, "slow")?.state.running ? p : undefined;
    }, "slow running");
    // (Its probe cannot pass for 2 s after the start; the status saying running comes at once.)
    expect(containerStatus(early, "slow")?.started).toBe(false);
    expect(containerStatus(early, "slow")?.ready).toBe(false);
    const started = await waitFor(async () => {
      const p = await getPod(env.api, "slow-start");
      const s = containerStatus(p, "slow");
      return s?.started && s.ready ? p : undefined;
    }, "slow started and ready", 30_000);
    expect(containerStatus(started, "slow")?.restartCount).toBe(0);
    const restarted = await waitFor(async () => {
      const p = await getPod(env.api, "slow-start");
      return (containerStatus(p, "never")?.restartCount ?? 0) >= 1 ? p : undefined;
    }, "never restarted by its startup probe", 30_000);
    expect(containerStatus(restarted, "never")?.started).toBe(false);
    expect(containerStatus(restarted, "never")?.ready).toBe(false);
    expect(containerStatus(restarted, "slow")?.restartCount).toBe(0);
    const evs = await eventsFor(env.api, "slow-start");
    expect(evs.some((e) => e.reason === "Unhealthy" && e.message?.startsWith("Startup probe failed: "))).toBe(true);
    expect(evs.some((e) => e.reason === "Killing" && e.message === "Container never failed startup probe, will be restarted")).toBe(true);
    // Neither liveness probe ran before its startup probe passed: "slow"'s would have failed in
    // its first 2 s, "never"'s always.
    expect(evs.filter((e) => e.message?.startsWith("Liveness probe failed"))).toEqual([]);
  });

  test("readiness flips the pod's Ready condition both ways", async () => {
    await env.api.create("pods", pod("gate", env.node, {
      containers: [{
        name: "web",
        image: BB,
        command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        readinessProbe: { httpGet: { port: 8080, path: "/ready.html" }, periodSeconds: 1, failureThreshold: 1 },
      }],
    }));
    await waitRunning(env.api, "gate");
    // Not ready while /ready.html is absent.
    await waitFor(async () => {
      const p = await getPod(env.api, "gate");
      return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "False" && containerStatus(p, "web")?.state.running;
    }, "not ready at first");
    await podExec(env.rt, await getPod(env.api, "gate"), "web", ["sh", "-c", "echo ok > /var/www/ready.html"]);
    await waitFor(async () => isReady(await getPod(env.api, "gate")), "Ready=True");
    await podExec(env.rt, await getPod(env.api, "gate"), "web", ["rm", "/var/www/ready.html"]);
    await waitFor(async () => !isReady(await getPod(env.api, "gate")), "Ready=False again");
    expect(containerStatus(await getPod(env.api, "gate"), "web")?.restartCount).toBe(0);
  });

  test("restart back-off grows between crashes (CrashLoopBackOff)", async () => {
    await env.api.create("pods", pod("crashy", env.node, { containers: [{ name: "c", image: BB, command: ["sh", "-c", "exit 3"] }] }));
    // Every attempt's start and finish as Docker reports them (lastState.terminated), so the
    // measured delays do not depend on how fast statuses reach the API.
    const attempts = new Map<string, number>(); // startedAt → finishedAt
    let sawBackOff = false;
    await waitFor(async () => {
      const s = containerStatus(await getPod(env.api, "crashy"), "c");
      const term = s?.lastState?.terminated;
      if (term?.startedAt && term.finishedAt) attempts.set(term.startedAt, Date.parse(term.finishedAt));
      if (s?.state.waiting?.reason === "CrashLoopBackOff") sawBackOff = true;
      return attempts.size >= 6;
    }, "six attempts", 30_000, 20);
    const sorted = [...attempts.entries()].map(([st, fin]) => ({ start: Date.parse(st), fin })).sort((a, b) => a.start - b.start);
    // Delay before attempt k+1 = its start − attempt k's finish; the last three.
    const gaps = sorted.slice(1).map((a, i) => a.start - sorted[i].fin).slice(-3);
    // Base 300 ms doubling: delays 0, 300, 600, 1200, 2400 ms (or one step later if the first,
    // immediate, attempt was not sampled). A delay is a minimum, so each measured gap is at least
    // it, whatever the engine's overhead; 20 ms allows for clock rounding.
    expect(gaps[0]).toBeGreaterThanOrEqual(600 - 20);
    expect(gaps[1]).toBeGreaterThanOrEqual(1200 - 20);
    expect(gaps[2]).toBeGreaterThanOrEqual(2400 - 20);
    expect(sawBackOff).toBe(true);
    const now = containerStatus(await getPod(env.api, "crashy"), "c");
    expect(now?.lastState?.terminated?.exitCode).toBe(3);
    expect(now?.lastState?.terminated?.reason).toBe("Error");
    expect((await eventsFor(env.api, "crashy")).find((e) => e.reason === "BackOff")?.count).toBeGreaterThanOrEqual(2);
  });
});
