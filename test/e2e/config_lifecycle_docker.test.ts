/**
 * Issue 14 (items 2–5) on real Docker: a real API (nats-server + store) and a real node agent
 * driving the machine's engine.
 *
 *   - a ConfigMap edit reaches a running container's mounted file (the `..data` swap), and a
 *     downward API volume follows a label change;
 *   - env from a Secret (`secretKeyRef`, `envFrom` with a prefix) and from the downward API
 *     (`fieldRef`, `resourceFieldRef`); the Secret volume is on tmpfs;
 *   - a missing Secret keeps the container waiting `CreateContainerConfigError` naming it, then
 *     the container starts once the Secret is created;
 *   - init containers run in order, one at a time (each appends to a shared emptyDir file),
 *     before the app container; a failing init container with restartPolicy Never fails the pod;
 *   - a preStop hook delays termination: the app container stays up until the hook finished;
 *     a failing httpGet preStop hook is a FailedPreStopHook event and termination goes on; a
 *     container ignoring SIGTERM is killed at the grace period's deadline; a liveness kill runs
 *     the preStop hook too;
 *   - no container and no volume directory is left when the pods go.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { LABELS } from "../../model/container_runtime.ts";
import type { Pod } from "../../model/types.ts";
import { podStatus } from "../../runtime/api/table.ts";
import { containerStatus, getPod, pod, podEnv, type PodEnv, startTestApi, waitFor } from "../helpers/pod_fixture.ts";
import { containerOf as containerOfPod, shIn } from "../helpers/pod_fixture.ts";
import type { TestApi } from "../helpers/api.ts";

const IMAGE = "berth/busybox:latest";
const docker = new Docker();

describe("ConfigMaps, Secrets, downward API, init containers and hooks on Docker", () => {
  let test: TestApi;
  let env: PodEnv;
  let podsDir: string;
  let hookDir: string;

  beforeAll(async () => {
    test = await startTestApi();
    podsDir = mkdtempSync(join(tmpdir(), "berth-pods-"));
    hookDir = mkdtempSync(join(tmpdir(), "berth-hook-"));
    env = await podEnv(test, { podsDir, configRefreshMs: 300 });
  }, 60_000);
  afterAll(async () => {
    await env?.cleanup();
    await test?.stop();
    rmSync(podsDir, { recursive: true, force: true });
    rmSync(hookDir, { recursive: true, force: true });
  });

  const containerOf = (p: string, name: string) => containerOfPod(env, p, name);
  const sh = (id: string, script: string) => shIn(env, id, script);
  const running = (p: Pod, name: string) => !!containerStatus(p, name)?.state.running;

  it("config - a ConfigMap edit and a label change reach the running container's files in place", async () => {
    await env.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-config", namespace: "default" }, data: { "app.conf": "v1", other: "x" } });
    await env.api.create("pods", pod("cm-pod", env.node, {
      containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"], volumeMounts: [{ name: "cfg", mountPath: "/etc/app" }, { name: "info", mountPath: "/etc/info" }] }],
      volumes: [
        { name: "cfg", configMap: { name: "app-config", items: [{ key: "app.conf", path: "conf/app.conf", mode: 0o600 }] } },
        { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
      ],
    }));
    await waitFor(async () => running(await getPod(env.api, "cm-pod"), "app"), "cm-pod running", 30_000);
    const id = await containerOf("cm-pod", "app");
    expect(await sh(id, "cat /etc/app/conf/app.conf")).toBe("v1");
    expect(await sh(id, "ls /etc/app")).toBe("conf\n"); // only the projected item
    expect((await sh(id, "stat -c %a /etc/app/..data/conf/app.conf")).trim()).toBe("600");
    expect((await sh(id, "readlink /etc/app/conf")).trim()).toBe("..data/conf");

    const cm = await env.api.get("configmaps", "app-config", "default");
    await env.api.update("configmaps", { ...cm, data: { ...cm.data, "app.conf": "v2" } });
    await waitFor(async () => (await sh(id, "cat /etc/app/conf/app.conf")) === "v2", "the edit in the mounted file", 20_000);

    await env.api.patch("pods", "cm-pod", { metadata: { labels: { tier: "web" } } }, { namespace: "default" });
    await waitFor(async () => (await sh(id, "cat /etc/info/labels")).includes('tier="web"'), "the label in the downward API file", 20_000);
    // The same container all along: updated in place, not restarted.
    expect(containerStatus(await getPod(env.api, "cm-pod"), "app")?.restartCount).toBe(0);
  }, 90_000);

  it("config - env from a Secret and the downward API; the Secret volume is on tmpfs", async () => {
    await env.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "default" }, stringData: { password: "s3cret", user: "admin" } });
    await env.api.create("pods", pod("env-pod", env.node, {
      containers: [{
        name: "app",
        image: IMAGE,
        command: ["sleep", "3600"],
        resources: { limits: { memory: "64Mi", cpu: "500m" } },
        env: [
          { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
        ],
        envFrom: [{ prefix: "DB_", secretRef: { name: "db" } }],
        volumeMounts: [{ name: "creds", mountPath: "/creds" }],
      }],
      volumes: [{ name: "creds", secret: { secretName: "db" } }],
    }));
    await waitFor(async () => running(await getPod(env.api, "env-pod"), "app"), "env-pod running", 30_000);
    const p = await getPod(env.api, "env-pod");
    const id = await containerOf("env-pod", "app");
    const envText = await sh(id, "env");
    expect(envText).toContain("DB_PASSWORD=s3cret");
    expect(envText).toContain("DB_user=admin");
    expect(envText).toContain("POD_NAME=env-pod");
    expect(envText).toContain(`POD_IP=${p.status?.podIP}`);
    expect(envText).toContain(`NODE=${env.node}`);
    expect(envText).toContain("MEM_MI=64");
    expect(await sh(id, "cat /creds/password")).toBe("s3cret");
    const hostDir = join(podsDir, p.metadata.uid!, "volumes", "kubernetes.io~secret", "creds");
    const { readFileSync } = await import("node:fs");
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.split(" ")[4] === hostDir);
    expect(mounts.length).toBe(1);
    expect(mounts[0]).toContain(" - tmpfs ");
  }, 60_000);

  it("config - a missing Secret is CreateContainerConfigError naming it, and the container starts once it exists", async () => {
    await env.api.create("pods", pod("wait-pod", env.node, {
      containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"], env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "late", key: "token" } } }] }],
    }));
    const waiting = await waitFor(async () => {
      const p = await getPod(env.api, "wait-pod");
      return containerStatus(p, "app")?.state.waiting?.reason === "CreateContainerConfigError" ? p : undefined;
    }, "CreateContainerConfigError", 30_000);
    expect(containerStatus(waiting, "app")?.state.waiting?.message).toBe('secret "late" not found');
    expect(podStatus(waiting)).toBe("CreateContainerConfigError");
    // The event is written apart from the status: wait for it rather than expect it already there.
    await waitFor(async () => {
      const events = await env.api.list("events", { namespace: "default" });
      return events.items.some((e) => e.involvedObject.name === "wait-pod" && e.reason === "Failed" && e.message === 'Error: secret "late" not found');
    }, "the Failed event naming the Secret", 20_000);
    // A Secret without the key: the message names the key.
    await env.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "late", namespace: "default" }, stringData: { other: "x" } });
    await waitFor(async () => containerStatus(await getPod(env.api, "wait-pod"), "app")?.state.waiting?.message === "couldn't find key token in Secret default/late", "missing key message", 20_000);
    const s = await env.api.get("secrets", "late", "default");
    await env.api.update("secrets", { ...s, stringData: { token: "t0k" } });
    await waitFor(async () => running(await getPod(env.api, "wait-pod"), "app"), "wait-pod running after the Secret appeared", 30_000);
    const id = await containerOf("wait-pod", "app");
    expect(await sh(id, "echo -n $TOKEN")).toBe("t0k");
  }, 90_000);

  it("init containers - run in order, one at a time, before the app container", async () => {
    await env.api.create("pods", pod("init-pod", env.node, {
      initContainers: [
        { name: "first", image: IMAGE, command: ["sh", "-c", "echo first-start >> /work/log; sleep 1; echo first-end >> /work/log"], volumeMounts: [{ name: "work", mountPath: "/work" }] },
        { name: "second", image: IMAGE, command: ["sh", "-c", "echo second >> /work/log"], volumeMounts: [{ name: "work", mountPath: "/work" }] },
      ],
      containers: [{ name: "app", image: IMAGE, command: ["sh", "-c", "echo app >> /work/log; sleep 3600"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
      volumes: [{ name: "work", emptyDir: {} }],
    }));
    const seen = new Set<string>();
    await waitFor(async () => {
      const p = await getPod(env.api, "init-pod");
      seen.add(podStatus(p));
      return running(p, "app");
    }, "init-pod app running", 40_000, 100);
    expect([...seen].some((s) => s.startsWith("Init:"))).toBe(true);
    const id = await containerOf("init-pod", "app");
    expect((await sh(id, "cat /work/log")).trim().split("\n")).toEqual(["first-start", "first-end", "second", "app"]);
    const p = await getPod(env.api, "init-pod");
    expect(p.status?.initContainerStatuses?.map((s) => [s.name, s.state.terminated?.exitCode])).toEqual([["first", 0], ["second", 0]]);
    expect(p.status?.conditions?.find((c) => c.type === "Initialized")?.status).toBe("True");
  }, 60_000);

  it("init containers - a failing init container with restartPolicy Never fails the pod; the app never starts", async () => {
    await env.api.create("pods", pod("init-fail", env.node, {
      restartPolicy: "Never",
      initContainers: [{ name: "check", image: IMAGE, command: ["sh", "-c", "exit 3"] }],
      containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"] }],
    }));
    const p = await waitFor(async () => {
      const x = await getPod(env.api, "init-fail");
      return x.status?.phase === "Failed" ? x : undefined;
    }, "init-fail Failed", 30_000);
    expect(podStatus(p)).toBe("Init:Error");
    expect(containerStatus(p, "app")?.state.waiting?.reason).toBe("PodInitializing");
    const apps = await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${env.node}`, `${LABELS.podName}=init-fail`, `${LABELS.container}=app`] } });
    expect(apps).toEqual([]);
  }, 60_000);

  it("init containers - a failing one is restarted with back-off: Init:Error, then Init:CrashLoopBackOff", async () => {
    await env.api.create("pods", pod("init-loop", env.node, {
      initContainers: [{ name: "flaky", image: IMAGE, command: ["sh", "-c", "exit 1"] }],
      containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"] }],
    }));
    const seen = new Set<string>();
    const p = await waitFor(async () => {
      const x = await getPod(env.api, "init-loop");
      seen.add(podStatus(x));
      return seen.has("Init:CrashLoopBackOff") && (x.status?.initContainerStatuses?.[0].restartCount ?? 0) >= 2 ? x : undefined;
    }, "Init:CrashLoopBackOff with restarts", 30_000, 50);
    expect(seen.has("Init:Error") || seen.has("Init:0/1")).toBe(true);
    expect(p.status?.phase).toBe("Pending");
    expect(containerStatus(p, "app")?.state.waiting?.reason).toBe("PodInitializing");
    await env.api.delete("pods", "init-loop", "default", { gracePeriodSeconds: 1 });
  }, 60_000);

  it("hooks - a failing postStart hook is a FailedPostStartHook event and the container is restarted", async () => {
    await env.api.create("pods", pod("poststart-fail", env.node, {
      containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"], lifecycle: { postStart: { exec: { command: ["sh", "-c", "exit 2"] } } } }],
    }));
    await waitFor(async () => (containerStatus(await getPod(env.api, "poststart-fail"), "app")?.restartCount ?? 0) >= 1, "restarted after the failed hook", 30_000);
    const events = await env.api.list("events", { namespace: "default" });
    const ev = events.items.find((e) => e.involvedObject.name === "poststart-fail" && e.reason === "FailedPostStartHook");
    expect(ev?.message).toContain("exited with 2");
    await env.api.delete("pods", "poststart-fail", "default", { gracePeriodSeconds: 1 });
  }, 60_000);

  it("hooks - a preStop hook delays termination: the container stays up until the hook has finished", async () => {
    await env.api.create("pods", pod("hook-pod", env.node, {
      terminationGracePeriodSeconds: 20,
      containers: [{
        name: "app",
        image: IMAGE,
        // On SIGTERM it records whether the preStop hook had already finished.
        command: ["sh", "-c", "trap 'if [ -f /work/prestop-end ]; then echo after > /work/term; else echo before > /work/term; fi; exit 0' TERM; while true; do sleep 0.1; done"],
        lifecycle: {
          postStart: { exec: { command: ["sh", "-c", "echo started > /work/poststart"] } },
          preStop: { exec: { command: ["sh", "-c", "touch /work/prestop-start; sleep 2; touch /work/prestop-end"] } },
        },
        volumeMounts: [{ name: "work", mountPath: "/work" }],
      }],
      volumes: [{ name: "work", hostPath: { path: hookDir } }],
    }));
    await waitFor(async () => running(await getPod(env.api, "hook-pod"), "app"), "hook-pod running", 30_000);
    expect(existsSync(join(hookDir, "poststart"))).toBe(true);
    const deletedAt = Date.now();
    await env.api.delete("pods", "hook-pod", "default");
    const terminating = await getPod(env.api, "hook-pod");
    expect(podStatus(terminating)).toBe("Terminating");
    await waitFor(() => existsSync(join(hookDir, "prestop-start")), "the preStop hook started", 30_000);
    // Still running while the hook sleeps.
    const id = await containerOf("hook-pod", "app");
    expect((await docker.getContainer(id).inspect()).State.Running).toBe(true);
    await waitFor(() => existsSync(join(hookDir, "term")), "SIGTERM seen by the container", 30_000);
    const termSeenAfterMs = Date.now() - deletedAt;
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(hookDir, "term"), "utf8").trim()).toBe("after");
    expect(termSeenAfterMs).toBeGreaterThanOrEqual(2_000);
    await waitFor(async () => !(await env.api.get("pods", "hook-pod", "default").catch(() => undefined)), "hook-pod gone", 30_000);
  }, 60_000);

  it("hooks - a failing httpGet preStop hook is a FailedPreStopHook event and termination carries on; SIGTERM ignored means SIGKILL at the deadline", async () => {
    await env.api.create("pods", pod("hook-kill", env.node, {
      terminationGracePeriodSeconds: 3,
      containers: [
        {
          name: "web",
          image: IMAGE,
          command: ["httpd", "-f", "-p", "8081", "-h", "/var/www"],
          ports: [{ name: "http", containerPort: 8081 }],
          // To the pod's IP on the named port; the path does not exist: a 404.
          lifecycle: { preStop: { httpGet: { path: "/missing", port: "http" } } },
        },
        // PID 1 with SIGTERM ignored: only the SIGKILL at the deadline stops it.
        { name: "stubborn", image: IMAGE, command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"] },
      ],
    }));
    await waitFor(async () => {
      const p = await getPod(env.api, "hook-kill");
      return running(p, "web") && running(p, "stubborn");
    }, "hook-kill running", 30_000);
    const uid = (await getPod(env.api, "hook-kill")).metadata.uid!;
    const containers = () => docker.listContainers({ all: true, filters: { label: [`${LABELS.podUid}=${uid}`, `${LABELS.role}=app`] } });
    expect((await containers()).length).toBe(2);
    const deletedAt = Date.now();
    await env.api.delete("pods", "hook-kill", "default");
    expect(podStatus(await getPod(env.api, "hook-kill"))).toBe("Terminating");
    await waitFor(async () => (await containers()).length === 0, "both containers stopped and removed", 30_000, 100);
    const tookMs = Date.now() - deletedAt;
    // Not before the grace period's end (less a second of slack for the agent's clock), and not long after it.
    expect(tookMs).toBeGreaterThanOrEqual(2_000);
    expect(tookMs).toBeLessThan(15_000);
    const ev = await waitFor(async () => {
      const events = await env.api.list("events", { namespace: "default" });
      return events.items.find((e) => e.involvedObject.name === "hook-kill" && e.reason === "FailedPreStopHook");
    }, "FailedPreStopHook event", 20_000);
    expect(ev.type).toBe("Warning");
    expect(ev.message).toMatch(/^HTTP lifecycle hook \(\/missing\) for Container "web" in Pod "hook-kill_default\(.+\)" failed - error: .*failed with status 404$/);
    await waitFor(async () => !(await env.api.get("pods", "hook-kill", "default").catch(() => undefined)), "hook-kill gone", 30_000);
  }, 60_000);

  it("hooks - a container killed by its failed liveness probe runs its preStop hook first, as the kubelet does", async () => {
    await env.api.create("pods", pod("live-hook", env.node, {
      terminationGracePeriodSeconds: 5,
      containers: [{
        name: "app",
        image: IMAGE,
        command: ["sh", "-c", "trap 'echo term >> /work/liveness-log; exit 0' TERM; while true; do sleep 0.1; done"],
        // Fails once the marker exists, so the first kill comes only when the test asks for it.
        livenessProbe: { exec: { command: ["sh", "-c", "test ! -f /work/liveness-fail"] }, periodSeconds: 1, failureThreshold: 1 },
        lifecycle: { preStop: { exec: { command: ["sh", "-c", "rm -f /work/liveness-fail; echo prestop >> /work/liveness-log"] } } },
        volumeMounts: [{ name: "work", mountPath: "/work" }],
      }],
      volumes: [{ name: "work", hostPath: { path: hookDir } }],
    }));
    await waitFor(async () => running(await getPod(env.api, "live-hook"), "app"), "live-hook running", 30_000);
    const { writeFileSync, readFileSync } = await import("node:fs");
    writeFileSync(join(hookDir, "liveness-fail"), "");
    const p = await waitFor(async () => {
      const x = await getPod(env.api, "live-hook");
      return (containerStatus(x, "app")?.restartCount ?? 0) >= 1 ? x : undefined;
    }, "restarted after the liveness failure", 30_000);
    // The hook ran before SIGTERM reached the container.
    expect(readFileSync(join(hookDir, "liveness-log"), "utf8").trim().split("\n").slice(0, 2)).toEqual(["prestop", "term"]);
    const events = await env.api.list("events", { namespace: "default" });
    expect(events.items.some((e) => e.involvedObject.name === "live-hook" && e.reason === "Killing" && /failed liveness probe/.test(e.message ?? ""))).toBe(true);
    expect(p.status?.phase).toBe("Running");
    await env.api.delete("pods", "live-hook", "default", { gracePeriodSeconds: 1 });
  }, 60_000);

  it("cleanup - deleting the pods leaves no container and no volume directory", async () => {
    const pods = await env.api.list("pods", { namespace: "default" });
    const uids = pods.items.map((p) => p.metadata.uid!);
    for (const p of pods.items) await env.api.delete("pods", p.metadata.name, "default", { gracePeriodSeconds: 1 });
    await waitFor(async () => (await env.api.list("pods", { namespace: "default" })).items.length === 0, "every pod gone", 60_000);
    await waitFor(async () => (await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${env.node}`] } })).length === 0, "no container left", 30_000);
    for (const uid of uids) expect(existsSync(join(podsDir, uid))).toBe(false);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(podsDir);
  }, 90_000);
});
