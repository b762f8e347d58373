/**
 * A real registry for tests (runtime/registry.ts: Debian's docker-registry on 127.0.0.1, data in
 * a temp dir), and pushing local images to it through the Docker engine. Fails loudly when the
 * registry cannot start; never skips.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { type LocalRegistry, startRegistry } from "../../runtime/registry.ts";

export interface TestRegistry extends LocalRegistry {
  auth?: { username: string; password: string };
  /** Stops the registry and removes its directory. */
  close(): Promise<void>;
}

export async function startTestRegistry(auth?: { username: string; password: string }): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "berth-registry-"));
  let reg: LocalRegistry;
  try {
    reg = await startRegistry({ dir, auth });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`test registry did not start: ${(e as Error).message}`, { cause: e });
  }
  return {
    ...reg,
    auth,
    stop: () => reg.stop(),
    async close() {
      await reg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: unknown, out: { error?: string; errorDetail?: { message?: string } }[]) => {
      if (err) return reject(err);
      const bad = out.find((o) => o.error);
      if (bad) return reject(new Error(bad.errorDetail?.message ?? bad.error));
      resolve();
    });
  });
}

/**
 * `docker tag source target && docker push target` through the engine. `target` is
 * `<registry address>/<repo>:<tag>`. The local tag stays (remove it with `removeImage`).
 */
export async function pushImage(source: string, target: string, auth?: { username: string; password: string }, docker = new Docker()): Promise<void> {
  const colon = target.lastIndexOf(":");
  const repo = target.slice(0, colon);
  const tag = target.slice(colon + 1);
  await docker.getImage(source).tag({ repo, tag });
  const serveraddress = target.split("/")[0];
  // The engine wants an X-Registry-Auth header even for an open registry.
  const authconfig = auth ? { ...auth, serveraddress } : { serveraddress };
  const stream = (await docker.getImage(target).push({ authconfig } as never)) as unknown as NodeJS.ReadableStream;
  await follow(docker, stream);
}

/** Removes a local image reference (the tag), ignoring one already gone. */
export async function removeImage(ref: string, docker = new Docker()): Promise<void> {
  try {
    await docker.getImage(ref).remove({ force: true });
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
}

/**
 * A small image different from every other (a file with `content` on top of berth/busybox),
 * built through the engine without a Dockerfile: a container that writes the file, committed.
 * Returns the new image's local reference.
 */
export async function buildVariant(ref: string, content: string, docker = new Docker()): Promise<string> {
  const c = await docker.createContainer({ Image: "berth/busybox:latest", Cmd: ["sh", "-c", `printf '%s' "$V" > /variant`], Env: [`V=${content}`], Labels: { "berth.test": "variant" } });
  try {
    await c.start();
    await c.wait();
    const colon = ref.lastIndexOf(":");
    await c.commit({ repo: ref.slice(0, colon), tag: ref.slice(colon + 1) });
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
  return ref;
}
