/**
 * Changing a running pod's container image on real Docker: the pod actor stops that container,
 * recreates it from the new image (restartCount + 1, a `Killing` event saying the definition
 * changed) and reports the new image; the pod's other container keeps running untouched.
 */
import Docker from "dockerode";
import { beforeAll, describe, expect, test } from "vitest";
import { INFRA_IMAGE } from "../../runtime/containers/docker.ts";
import { dockerCli } from "../helpers/docker.ts";
import { containerStatus, eventsFor, getPod, pod, usePodEnv, waitFor, waitRunning } from "../helpers/pod_fixture.ts";

// A tag of the base image that only this run uses (no registry: a local tag of the same image).
const V2 = `berth/busybox:v2-${process.pid}`;
const env = usePodEnv({ shared: true, afterCleanup: () => dockerCli(["rmi", V2]) });

beforeAll(() => {
  dockerCli(["tag", INFRA_IMAGE, V2]);
});

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"];

describe("image update on Docker", () => {
  test("changing one container's image recreates just that container from the new image", async () => {
    await env.api.create("pods", pod("upgrade", env.node, {
      containers: [
        { name: "app", image: "berth/busybox:latest", command: IDLE },
        { name: "side", image: "berth/busybox:latest", command: IDLE },
      ],
    }));
    const before = await waitRunning(env.api, "upgrade");
    const cur = await getPod(env.api, "upgrade");
    await env.api.update("pods", {
      ...cur,
      spec: { ...cur.spec, containers: cur.spec.containers.map((c) => (c.name === "app" ? { ...c, image: V2 } : c)) },
    });
    const after = await waitFor(async () => {
      const p = await getPod(env.api, "upgrade");
      const s = containerStatus(p, "app");
      return s?.image === V2 && s.state.running ? p : undefined;
    }, "app running the new image", 20_000);
    const app = containerStatus(after, "app")!;
    expect(app.restartCount).toBe(1);
    expect(app.lastState?.terminated?.exitCode).toBe(0); // stopped with SIGTERM, trapped
    expect(app.containerID).not.toBe(containerStatus(before, "app")?.containerID);
    const inspected = await new Docker().getContainer(app.containerID!.replace("docker://", "")).inspect();
    expect(inspected.Config.Image).toBe(V2);
    expect(containerStatus(after, "side")?.containerID).toBe(containerStatus(before, "side")?.containerID);
    expect(containerStatus(after, "side")?.restartCount).toBe(0);
    expect(after.status?.phase).toBe("Running");
    const old = await new Docker().listContainers({ all: true, filters: { id: [containerStatus(before, "app")!.containerID!.replace("docker://", "")] } });
    expect(old).toEqual([]);
    const reasons = (await eventsFor(env.api, "upgrade")).map((e) => `${e.reason}: ${e.message}`);
    expect(reasons).toContain("Killing: Container app definition changed, will be restarted");
  });
});
