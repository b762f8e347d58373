/**
 * Pull time through a local registry: Berth (pod created → `Pulled` event seen through the API;
 * plus the kubelet-style duration the Pulled message itself states) against a plain
 * `docker pull` of the same image from the same registry, alternating, the image removed
 * before every pull so each one downloads its layer.
 *
 * The image is berth/busybox plus one layer of `--mb` MB of random bytes, pushed to a
 * docker-registry on 127.0.0.1 started here.
 *
 *   flock /work/.heavy.lock npx tsx bench/pull.ts [--rounds 5] [--mb 20]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { startRegistry } from "../runtime/registry.ts";
import { startTestApi } from "../test/helpers/api.ts";
import { eventsFor, pod, podEnv, waitFor, waitGone } from "../test/helpers/pod_fixture.ts";
import { pushImage } from "../test/helpers/registry.ts";
import { numArg } from "./args.ts";
import { median } from "./stats.ts";

const rounds = numArg("rounds", 5);
const mb = numArg("mb", 20);
const docker = new Docker();
const dir = mkdtempSync(join(tmpdir(), "berth-bench-pull-"));
const reg = await startRegistry({ dir });
const image = `${reg.address}/bench/blob:v1`;
const local = `berth-bench/blob:${process.pid}`;

// berth/busybox + one layer of random bytes.
const c = await docker.createContainer({ Image: "berth/busybox:latest", Cmd: ["sh", "-c", `head -c ${mb * 1_000_000} /dev/urandom > /blob`] });
await c.start();
await c.wait();
await c.commit({ repo: local.split(":")[0], tag: local.split(":")[1] });
await c.remove({ force: true });
// The image's ID is unique to this run (a random layer): safe to remove by ID.
const blobId = (await docker.getImage(local).inspect()).Id;
await pushImage(local, image);

/** Removes the image and its own layer, so the next pull downloads it; checks it is gone. */
async function purge(): Promise<void> {
  await docker.getImage(blobId).remove({ force: true }).catch((e) => {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  });
  if (await env.rt.inspectImage(blobId)) throw new Error(`image ${blobId} still present after removal`);
}

const t = await startTestApi();
const env = await podEnv(t);
await purge();
const berthMs: number[] = [];
const statedMs: number[] = [];
const dockerMs: number[] = [];
try {
  for (let i = 0; i < rounds; i++) {
    const name = `pull-${i}`;
    const t0 = performance.now();
    await env.api.create("pods", pod(name, env.node, { containers: [{ name: "c", image, command: ["sleep", "3600"] }] }));
    const ev = await waitFor(async () => (await eventsFor(env.api, name)).find((e) => e.reason === "Pulled"), "Pulled", 120_000, 10);
    berthMs.push(performance.now() - t0);
    const m = /in ([\d.]+)(ms|s) \(/.exec(ev.message ?? "");
    if (m) statedMs.push(Number(m[1]) * (m[2] === "s" ? 1000 : 1));
    const uid = (await env.api.get("pods", name, "default")).metadata.uid!;
    await env.api.delete("pods", name, "default", { gracePeriodSeconds: 0 });
    await waitGone(env.api, name, 60_000);
    // The container must be gone too, or the image outlives its removal.
    await waitFor(async () => (await env.rt.listContainers({ "berth.pod.uid": uid })).length === 0, "pod containers removed", 60_000);
    await purge();

    const t1 = performance.now();
    execFileSync("/usr/bin/docker", ["pull", "-q", image], { stdio: "ignore" });
    dockerMs.push(performance.now() - t1);
    await purge();
  }
} finally {
  await env.cleanup();
  await t.stop();
  await purge().catch(() => {});
  await reg.stop();
  rmSync(dir, { recursive: true, force: true });
}
const f = (xs: number[]) => `median ${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(", ")})`;
console.log(`pull of ${image} (berth/busybox + ${mb} MB layer), ${rounds} rounds, alternating`);
console.log(`  berth: pod created → Pulled event seen   ${f(berthMs)}`);
console.log(`  berth: the Pulled event's own duration  ${f(statedMs)}`);
console.log(`  docker pull (CLI, same registry)        ${f(dockerMs)}`);
console.log(`command: flock /work/.heavy.lock npx tsx bench/pull.ts --rounds ${rounds} --mb ${mb}`);
