/**
 * The node's usage reports on the hollow runtime: steady synthetic figures, or the ones a pod's
 * annotations script (`berth.dev/hollow-cpu`, `berth.dev/hollow-memory`), which is how
 * autoscaling is tried without load.
 */
import { afterEach, expect, test } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { HOLLOW_ANNOTATIONS, HollowRuntime } from "../../../../runtime/containers/hollow.ts";
import { startUsageReporter, syntheticUsage, type UsageReporter } from "../../../../runtime/kubelet/usage_reporter.ts";
import type { UsageReport } from "../../../../model/usage.ts";

const reporters: UsageReporter[] = [];
afterEach(() => {
  for (const r of reporters.splice(0)) r.stop();
});

async function podOn(rt: HollowRuntime, name: string, annotations: Record<string, string>): Promise<void> {
  const ref = { node: "n1", uid: `uid-${name}`, name, namespace: "default", annotations };
  const sandbox = await rt.createSandbox({ pod: ref, ports: [] });
  await rt.startContainer(await rt.createContainer({ pod: ref, name: "c", sandboxId: sandbox.id, image: "berth/busybox", restartCount: 0 }));
}

test("a hollow pod reports the cpu and memory its annotations script, others the synthetic figures, and a bad quantity falls back", async () => {
  const rt = new HollowRuntime();
  await podOn(rt, "busy", { [HOLLOW_ANNOTATIONS.cpu]: "400m", [HOLLOW_ANNOTATIONS.memory]: "64Mi" });
  await podOn(rt, "plain", {});
  await podOn(rt, "odd", { [HOLLOW_ANNOTATIONS.cpu]: "lots" });
  const published: UsageReport[] = [];
  const nc = { publish: (_s: string, data: Uint8Array) => void published.push(JSON.parse(new TextDecoder().decode(data))) } as unknown as NatsConnection;
  const r = startUsageReporter({ nc, node: "n1", runtime: rt, scripted: (id) => rt.scriptedUsage(id), intervalMs: 60_000 });
  reporters.push(r);
  const report = await r.tick();
  const byName = Object.fromEntries(report!.pods.map((p) => [p.name, p.containers[0]]));
  expect(byName.busy).toEqual({ name: "c", cpuNanoCores: 400_000_000, memoryBytes: 64 * 1024 * 1024 });
  expect(byName.plain).toEqual({ name: "c", ...syntheticUsage("default/plain/c") });
  expect(byName.odd).toEqual({ name: "c", ...syntheticUsage("default/odd/c") });
  expect(published.at(-1)).toEqual(report);
});
