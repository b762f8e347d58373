/**
 * The hollow runtime's container listing by label: a filter naming a pod's uid is answered from
 * the runtime's index of containers by pod, and must list exactly what a scan would.
 */
import { describe, expect, it } from "vitest";
import { HollowRuntime } from "../../../../runtime/containers/hollow.ts";
import { LABELS, type PodRef } from "../../../../model/container_runtime.ts";

const ref = (uid: string, node = "n1"): PodRef => ({ uid, name: `p-${uid}`, namespace: "default", node });

async function startPod(rt: HollowRuntime, pod: PodRef): Promise<{ sandbox: string; app: string }> {
  const sandbox = (await rt.createSandbox({ pod, ports: [] })).id;
  const app = await rt.createContainer({ pod, name: "c", sandboxId: sandbox, image: "berth/busybox:latest", restartCount: 0 } as never);
  return { sandbox, app };
}

describe("hollow runtime - listContainers", () => {
  it("hollow runtime - lists a pod's containers by uid, with the other labels still matched, and forgets removed ones", async () => {
    const rt = new HollowRuntime();
    const a = await startPod(rt, ref("a"));
    const b = await startPod(rt, ref("b"));
    const other = await startPod(rt, ref("c", "n2"));
    const ids = async (labels: Record<string, string>) => (await rt.listContainers(labels)).map((c) => c.id);

    expect(await ids({ [LABELS.podUid]: "a" })).toEqual([a.sandbox, a.app]);
    expect(await ids({ [LABELS.node]: "n1", [LABELS.podUid]: "b" })).toEqual([b.sandbox, b.app]);
    expect(await ids({ [LABELS.node]: "n2", [LABELS.podUid]: "b" })).toEqual([]);
    expect(await ids({ [LABELS.podUid]: "b", [LABELS.role]: "infra" })).toEqual([b.sandbox]);
    expect(await ids({ [LABELS.podUid]: "nobody" })).toEqual([]);
    expect(await ids({ [LABELS.node]: "n1" })).toEqual([a.sandbox, a.app, b.sandbox, b.app]);
    expect(await ids({})).toEqual([a.sandbox, a.app, b.sandbox, b.app, other.sandbox, other.app]);

    await rt.removeContainer(a.app);
    expect(await ids({ [LABELS.podUid]: "a" })).toEqual([a.sandbox]);
    await rt.removeContainer(a.sandbox);
    expect(await ids({ [LABELS.podUid]: "a" })).toEqual([]);
    // A new attempt of the same pod is listed after the old one's removal.
    const again = await startPod(rt, ref("a"));
    expect(await ids({ [LABELS.podUid]: "a" })).toEqual([again.sandbox, again.app]);
  });
});
