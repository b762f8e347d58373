/**
 * Running a user's own image on real Docker: pulls from a real registry (Debian's
 * docker-registry on 127.0.0.1, one open and one htpasswd-protected), credentials from pull
 * secrets (dockerconfigjson and the older dockercfg), a refused anonymous pull, a wrong password,
 * a missing tag, `Always` re-pulling a re-pushed tag, hostPort (with and without hostIP) reached
 * from the host, limits in `docker inspect`, and an OOMKilled container restarted.
 *
 * One API, one node agent and two registries for the whole file. The pull secrets are real
 * Secret objects (type kubernetes.io/dockerconfigjson) in the API, read by the agent as it does
 * by default (the pod's imagePullSecrets, through its API client).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Pod } from "../../model/types.ts";
import type { PullSecret } from "../../runtime/kubelet/image_credentials.ts";
import { freePort } from "../../runtime/registry.ts";
import type { TestApi } from "../helpers/api.ts";
import { containerStatus, eventsFor, getPod, pod, type PodEnv, podEnv, startTestApi, waitFor, waitRunning } from "../helpers/pod_fixture.ts";
import { buildVariant, pushImage, removeImage, startTestRegistry, type TestRegistry } from "../helpers/registry.ts";

const AUTH = { username: "berth", password: "s3cret-pw" };
let t: TestApi;
let env: PodEnv;
let open: TestRegistry;
let locked: TestRegistry;
const localRefs: string[] = [];

const dockerconfigjson = (host: string, username: string, password: string): PullSecret => ({
  type: "kubernetes.io/dockerconfigjson",
  data: { ".dockerconfigjson": btoa(JSON.stringify({ auths: { [host]: { username, password } } })) },
});

/** Pushes `source` as `target` and drops the local tag, so a pod really has to pull it. */
async function publish(source: string, target: string, auth?: { username: string; password: string }): Promise<void> {
  await pushImage(source, target, auth);
  await removeImage(target);
}

async function waitWaiting(name: string, reason: string, timeoutMs = 20_000): Promise<Pod> {
  return waitFor(async () => {
    const p = await getPod(env.api, name);
    return containerStatus(p, "c")?.state.waiting?.reason === reason ? p : undefined;
  }, `pod ${name} waiting with ${reason}`, timeoutMs);
}

async function inspectOf(p: Pod, container = "c") {
  const id = containerStatus(p, container)!.containerID!.replace("docker://", "");
  return env.rt.docker.getContainer(id).inspect();
}

beforeAll(async () => {
  t = await startTestApi();
  [open, locked] = await Promise.all([startTestRegistry(), startTestRegistry(AUTH)]);
  for (const [name, secret] of Object.entries({
    good: dockerconfigjson(locked.address, AUTH.username, AUTH.password),
    bad: dockerconfigjson(`http://${locked.address}/v2/`, AUTH.username, "wrong-password"),
    // The older format: the auths map itself, with `auth` = base64(user:password).
    legacy: {
      type: "kubernetes.io/dockercfg",
      data: { ".dockercfg": btoa(JSON.stringify({ [locked.address]: { auth: btoa(`${AUTH.username}:${AUTH.password}`), email: "" } })) },
    },
  })) {
    await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default" }, ...secret });
  }
  env = await podEnv(t);
  await publish("berth/busybox:latest", `${open.address}/app:v1`);
  await publish("berth/busybox:latest", `${locked.address}/private:v1`, AUTH);
}, 60_000);

afterAll(async () => {
  await env?.cleanup();
  // Every local image from these registries (tagged or left untagged by a re-push).
  for (const r of [open, locked]) {
    if (!r) continue;
    const imgs = await env.rt.docker.listImages({ filters: { reference: [`${r.address}/*`] } });
    // By reference, never by ID: a pushed berth/busybox shares its ID with berth/busybox:latest.
    const refs = imgs.flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]).filter((ref) => ref.startsWith(`${r.address}/`));
    for (const ref of refs) await removeImage(ref).catch(() => {});
  }
  for (const ref of localRefs) await removeImage(ref).catch(() => {});
  await Promise.all([open?.close(), locked?.close()]);
  await t?.stop();
}, 60_000);

describe("images from registries on Docker", () => {
  test("a pod pulls its image from a registry without credentials: Pulling, Pulled with size and time, imageID with the digest", async () => {
    const image = `${open.address}/app:v1`;
    await env.api.create("pods", pod("pulled", env.node, { containers: [{ name: "c", image, command: ["sleep", "3600"] }] }));
    const p = await waitRunning(env.api, "pulled");
    const s = containerStatus(p, "c")!;
    expect(s.imageID).toMatch(new RegExp(`^docker-pullable://${open.address.replace(/\./g, "\\.")}/app@sha256:[0-9a-f]{64}$`));
    const evs = await eventsFor(env.api, "pulled");
    expect(evs.find((e) => e.reason === "Pulling")?.message).toBe(`Pulling image "${image}"`);
    expect(evs.find((e) => e.reason === "Pulled")?.message).toMatch(
      /^Successfully pulled image "127\.0\.0\.1:\d+\/app:v1" in [\d.]+m?s \([\d.]+m?s including waiting\)\. Image size: \d+ bytes\.$/,
    );
    // The tag's default policy is IfNotPresent: a second pod finds it on the machine.
    await env.api.create("pods", pod("present", env.node, { containers: [{ name: "c", image, command: ["sleep", "3600"] }] }));
    await waitRunning(env.api, "present");
    const again = await eventsFor(env.api, "present");
    expect(again.find((e) => e.reason === "Pulled")?.message).toBe(`Container image "${image}" already present on machine`);
    expect(again.some((e) => e.reason === "Pulling")).toBe(false);
  });

  test("a restarted node agent re-adopts the running container and still reports its digest", async () => {
    const before = containerStatus(await getPod(env.api, "pulled"), "c")!;
    await env.agent.stop();
    env.agent = await env.startAgent();
    // The new pod actor's record (what its status is computed from) learns the imageID from the engine.
    const uid = (await getPod(env.api, "pulled")).metadata.uid!;
    const after = await waitFor(() => {
      const rec = env.agent.pods.get(uid)?.getSnapshot().context.records.find((r) => r.name === "c");
      return rec?.id && rec.state.kind === "running" ? rec : undefined;
    }, "re-adopted and running");
    expect(`docker://${after.id}`).toBe(before.containerID);
    expect(after.imageID).toBe(before.imageID);
    expect(after.restartCount).toBe(0);
  });

  test("credentials from a dockerconfigjson pull secret open an htpasswd registry; a wrong password is a clear Failed event", async () => {
    const image = `${locked.address}/private:v1`;
    await env.api.create("pods", pod("wrongpw", env.node, { imagePullSecrets: [{ name: "bad" }], containers: [{ name: "c", image, command: ["sleep", "3600"] }] }));
    const failed = await waitFor(async () => (await eventsFor(env.api, "wrongpw")).find((e) => e.reason === "Failed" && e.message?.startsWith("Failed to pull")), "Failed event");
    expect(failed.type).toBe("Warning");
    expect(failed.message).toContain("unauthorized: authentication required");
    expect(failed.message).toContain(`the registry refused the credentials for http://${locked.address}/v2/ (user "berth")`);
    const waiting = await waitWaiting("wrongpw", "ImagePullBackOff");
    expect(containerStatus(waiting, "c")?.state.waiting?.message).toBe(`Back-off pulling image "${image}"`);

    await env.api.create("pods", pod("rightpw", env.node, { imagePullSecrets: [{ name: "bad" }, { name: "good" }], containers: [{ name: "c", image, command: ["sleep", "3600"] }] }));
    const p = await waitRunning(env.api, "rightpw");
    expect(containerStatus(p, "c")?.imageID).toContain(`${locked.address}/private@sha256:`);
  });

  test("credentials from an old-format dockercfg pull secret open the htpasswd registry too; without a secret the pull is refused", async () => {
    const image = `${locked.address}/private:v1`;
    // Always: pulled again even though an earlier test left it on the machine.
    const spec = (secrets: string[]) => ({
      ...(secrets.length ? { imagePullSecrets: secrets.map((name) => ({ name })) } : {}),
      containers: [{ name: "c", image, imagePullPolicy: "Always" as const, command: ["sleep", "3600"] }],
    });
    await env.api.create("pods", pod("anonymous", env.node, spec([])));
    const refused = await waitFor(async () => (await eventsFor(env.api, "anonymous")).find((e) => e.message?.startsWith("Failed to pull")), "Failed event");
    expect(refused.message).toContain("the registry refused an anonymous pull: give the pod imagePullSecrets");
    await waitWaiting("anonymous", "ImagePullBackOff");

    await env.api.create("pods", pod("legacy", env.node, spec(["legacy"])));
    const p = await waitRunning(env.api, "legacy");
    expect(containerStatus(p, "c")?.imageID).toContain(`${locked.address}/private@sha256:`);
    expect((await eventsFor(env.api, "legacy")).find((e) => e.reason === "Pulled")?.message).toMatch(/^Successfully pulled image /);
  });

  test("a tag that does not exist: ErrImagePull with the registry's message, then ImagePullBackOff, and no container", async () => {
    const image = `${open.address}/app:no-such-tag`;
    await env.api.create("pods", pod("notag", env.node, { containers: [{ name: "c", image }] }));
    const ev = await waitFor(async () => (await eventsFor(env.api, "notag")).find((e) => e.message?.startsWith("Failed to pull")), "Failed event");
    expect(ev.message).toBe(
      `Failed to pull image "${image}": Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`,
    );
    await waitFor(async () => (await eventsFor(env.api, "notag")).find((e) => e.message === "Error: ErrImagePull"), "Error: ErrImagePull event");
    const p = await waitWaiting("notag", "ImagePullBackOff");
    expect(p.status?.phase).toBe("Pending");
    await waitFor(async () => (await eventsFor(env.api, "notag")).find((e) => e.reason === "BackOff" && e.message === `Back-off pulling image "${image}"`), "BackOff event");
    const uid = p.metadata.uid!;
    const apps = (await env.rt.listContainers({ "berth.pod.uid": uid })).filter((c) => c.labels["berth.role"] === "app");
    expect(apps).toEqual([]);
  });

  test("Always pulls again: a re-pushed tag gives the next pod the new image (another imageID)", async () => {
    const image = `${open.address}/app:v2`;
    localRefs.push(await buildVariant("berth-test/variant:a", "first"), await buildVariant("berth-test/variant:b", "second"));
    await publish("berth-test/variant:a", image);
    const spec = { containers: [{ name: "c", image, imagePullPolicy: "Always" as const, command: ["sh", "-c", "cat /variant; sleep 3600"] }] };
    await env.api.create("pods", pod("always-1", env.node, spec));
    const first = containerStatus(await waitRunning(env.api, "always-1"), "c")!.imageID;
    await publish("berth-test/variant:b", image);
    await env.api.create("pods", pod("always-2", env.node, spec));
    const p2 = await waitRunning(env.api, "always-2");
    const second = containerStatus(p2, "c")!.imageID;
    expect(first).toMatch(/^docker-pullable:\/\/.*@sha256:/);
    expect(second).toMatch(/^docker-pullable:\/\/.*@sha256:/);
    expect(second).not.toBe(first);
    const out = await env.rt.exec(containerStatus(p2, "c")!.containerID!.replace("docker://", ""), ["cat", "/variant"]);
    expect(out.stdout).toBe("second");
    expect((await eventsFor(env.api, "always-2")).some((e) => e.reason === "Pulling")).toBe(true);
  });
});

describe("hostPort and limits on Docker", () => {
  test("hostPort is published on the node's address and answers from the host", async () => {
    const hostPort = await freePort();
    await env.api.create("pods", pod("hp", env.node, {
      containers: [{ name: "c", image: "berth/busybox", command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"], ports: [{ containerPort: 8080, hostPort }] }],
    }));
    await waitRunning(env.api, "hp");
    const body = await waitFor(async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${hostPort}/`);
        return r.ok ? await r.text() : undefined;
      } catch {
        return undefined;
      }
    }, `GET 127.0.0.1:${hostPort}`);
    expect(body).toContain("berth busybox base image");
  });

  test("hostPort with hostIP is published on that address only, and answers from the host there", async () => {
    const hostPort = await freePort();
    await env.api.create("pods", pod("hpip", env.node, {
      containers: [{ name: "c", image: "berth/busybox", command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"], ports: [{ containerPort: 8080, hostPort, hostIP: "127.0.0.2" }] }],
    }));
    const p = await waitRunning(env.api, "hpip");
    const body = await waitFor(async () => {
      try {
        const r = await fetch(`http://127.0.0.2:${hostPort}/`);
        return r.ok ? await r.text() : undefined;
      } catch {
        return undefined;
      }
    }, `GET 127.0.0.2:${hostPort}`);
    expect(body).toContain("berth busybox base image");
    await expect(fetch(`http://127.0.0.1:${hostPort}/`)).rejects.toThrow();
    // The binding is on the sandbox (infra) container, which owns the pod's ports.
    const infra = (await env.rt.listContainers({ "berth.pod.uid": p.metadata.uid! })).find((c) => c.labels["berth.role"] === "infra")!;
    const i = await env.rt.docker.getContainer(infra.id).inspect();
    expect(i.HostConfig.PortBindings["8080/tcp"]).toEqual([{ HostIp: "127.0.0.2", HostPort: String(hostPort) }]);
  });

  test("memory and CPU limits and CPU requests reach Docker as the kubelet sets them", async () => {
    await env.api.create("pods", pod("limits", env.node, {
      containers: [{ name: "c", image: "berth/busybox", command: ["sleep", "3600"], resources: { requests: { cpu: "250m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } } }],
    }));
    const i = await inspectOf(await waitRunning(env.api, "limits"));
    expect(i.HostConfig.Memory).toBe(64 * 2 ** 20);
    expect(i.HostConfig.MemorySwap).toBe(64 * 2 ** 20);
    expect(i.HostConfig.CpuPeriod).toBe(100_000);
    expect(i.HostConfig.CpuQuota).toBe(50_000);
    expect(i.HostConfig.CpuShares).toBe(256);
  });

  test("a container over its memory limit is OOMKilled and restarted per policy", async () => {
    await env.api.create("pods", pod("oom", env.node, {
      restartPolicy: "Always",
      containers: [{ name: "c", image: "berth/busybox", command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"], resources: { limits: { memory: "16Mi" } } }],
    }));
    const p = await waitFor(async () => {
      const p = await getPod(env.api, "oom");
      const s = containerStatus(p, "c");
      return s?.lastState?.terminated?.reason === "OOMKilled" && (s.restartCount ?? 0) >= 1 ? p : undefined;
    }, "OOMKilled in lastState and a restart", 30_000);
    expect(containerStatus(p, "c")?.lastState?.terminated?.exitCode).toBe(137);
  });
});
