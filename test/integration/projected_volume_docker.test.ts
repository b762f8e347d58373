/**
 * A projected volume as a process in a pod sees it, on real Docker: a real API (nats-server +
 * store) that signs tokens, the real node agent on this machine's engine.
 *
 *   - one directory holds a ConfigMap key, a Secret key, the pod's labels and a token of the
 *     pod's ServiceAccount for audience "vault", bound to the pod; read-only, on tmpfs when the
 *     agent may mount;
 *   - the volume is named `kube-api-access`, and the pod's implicit token volume is still its own
 *     (the API's audience, at the in-cluster path);
 *   - a ConfigMap edit reaches the running container in place;
 *   - nothing is left on the node (no directory, no mount) once the pod is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Pod } from "../../model/types.ts";
import { ephemeralServiceAccountTokens, type ServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";
import type { TestApi } from "../helpers/api.ts";
import { getPod, podEnv, type PodEnv, startTestApi, waitFor, waitGone, waitRunning } from "../helpers/pod_fixture.ts";
import { containerOf as containerOfPod, shIn } from "../helpers/pod_fixture.ts";

const IMAGE = "berth/busybox:latest";
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const execFileAsync = promisify(execFile);

describe("projected volume on Docker", () => {
  let test: TestApi;
  let env: PodEnv;
  let tokens: ServiceAccountTokens;
  let podsDir: string;
  const nodeMounts = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(podsDir));

  beforeAll(async () => {
    tokens = await ephemeralServiceAccountTokens();
    test = await startTestApi({ tokens });
    await test.api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "default" } }, "default");
    await test.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: "default" }, data: { "ca.crt": "CA-1\n" } }, "default");
    await test.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-config", namespace: "default" }, data: { level: "debug", unused: "x" } }, "default");
    await test.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "default" }, data: { password: Buffer.from("hunter2").toString("base64") } }, "default");
    podsDir = mkdtempSync(join(tmpdir(), "berth-projected-docker-"));
    env = await podEnv(test, { podsDir, configRefreshMs: 300 });
  }, 60_000);
  afterAll(async () => {
    await env?.cleanup();
    await test?.stop();
    if (!podsDir) return;
    // A test that failed before its pod was deleted leaves the pod's tmpfs mounts behind.
    for (const m of nodeMounts().map((l) => l.split(" ")[4]).sort().reverse()) await execFileAsync("umount", ["-l", m]).catch(() => {});
    rmSync(podsDir, { recursive: true, force: true });
  });

  const containerOf = (p: string, name: string) => containerOfPod(env, p, name);
  const sh = (id: string, script: string) => shIn(env, id, script);

  it("projected volume - a container reads a ConfigMap key, a Secret key, its labels and a vault-audience token from one directory, and a ConfigMap edit in place; nothing is left once the pod goes", async () => {
    const spec: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "combined", namespace: "default", labels: { app: "web", tier: "front" } },
      spec: {
        nodeName: env.node,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"], volumeMounts: [{ name: "kube-api-access", mountPath: "/projected" }] }],
        volumes: [{
          name: "kube-api-access",
          projected: {
            sources: [
              { configMap: { name: "app-config", items: [{ key: "level", path: "config/level" }] } },
              { secret: { name: "db", items: [{ key: "password", path: "db/password" }] } },
              { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
              { serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "vault-token" } },
            ],
          },
        }],
      },
    };
    await env.api.create("pods", spec);
    const p = await waitRunning(env.api, "combined", 30_000);
    const id = await containerOf("combined", "app");

    expect(await sh(id, "ls /projected")).toBe("config\ndb\nlabels\nvault-token\n");
    expect(await sh(id, "cat /projected/config/level")).toBe("debug");
    expect(await sh(id, "cat /projected/db/password")).toBe("hunter2");
    expect(await sh(id, "cat /projected/labels")).toBe('app="web"\ntier="front"');
    const vault = await sh(id, "cat /projected/vault-token");
    const claims = await tokens.verify(vault, { audiences: ["vault"] });
    expect(claims).toMatchObject({ audiences: ["vault"], namespace: "default", serviceAccount: { name: "default" }, bound: { kind: "Pod", name: "combined", uid: p.metadata.uid } });
    // Not a token for the API: its audience is vault's alone.
    expect(await tokens.verify(vault)).toBeUndefined();
    expect(await sh(id, "touch /projected/x 2>&1 || echo refused")).toMatch(/refused/);
    if (process.getuid?.() === 0) expect(await sh(id, "grep ' /projected ' /proc/mounts")).toMatch(/ tmpfs ro/);

    // The implicit token volume is apart from the pod's volume of the same name.
    const apiToken = await sh(id, `cat ${SA_DIR}/token`);
    expect((await tokens.verify(apiToken))?.bound?.uid).toBe(p.metadata.uid);
    expect(await sh(id, `ls ${SA_DIR}`)).toBe("ca.crt\nnamespace\ntoken\n");

    const cm = await env.api.get("configmaps", "app-config", "default");
    await env.api.update("configmaps", { ...cm, data: { level: "info" } });
    await waitFor(async () => (await sh(id, "cat /projected/config/level")) === "info", "the edited ConfigMap key in the container", 15_000);
    expect((await getPod(env.api, "combined")).status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(await containerOf("combined", "app")).toBe(id);

    await env.api.delete("pods", "combined", "default");
    await waitGone(env.api, "combined", 30_000);
    await waitFor(() => !existsSync(join(podsDir, p.metadata.uid!)), "the pod's directory removed", 15_000);
    expect(nodeMounts()).toEqual([]);
  });
});
