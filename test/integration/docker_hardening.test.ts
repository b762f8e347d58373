/**
 * Containers run with what the pod asks for and nothing more privileged: no privileged mode,
 * no host network or PID namespace, no-new-privileges, a PID limit and a bounded log.
 */
import { describe, expect, it } from "vitest";
import Docker from "dockerode";
import { LABELS } from "../../model/container_runtime.ts";
import { getPod, pod, usePodEnv, waitFor } from "../helpers/pod_fixture.ts";

describe("container hardening on Docker", () => {
  const env = usePodEnv({ shared: true });

  it("docker - every container of a pod is unprivileged, keeps its own namespaces, and has PID and log limits", async () => {
    await env.api.create("pods", pod("hardened", env.node, { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] }));
    await waitFor(async () => (await getPod(env.api, "hardened")).status?.phase === "Running", "the pod to run", 30_000);
    const docker = new Docker();
    const rows = await docker.listContainers({ filters: { label: [`${LABELS.node}=${env.node}`, `${LABELS.podName}=hardened`] } });
    expect(rows.length).toBe(2); // infra + main
    for (const r of rows) {
      const hc = (await docker.getContainer(r.Id).inspect()).HostConfig;
      expect(hc.Privileged).toBe(false);
      expect(hc.NetworkMode).not.toBe("host");
      expect(hc.PidMode ?? "").not.toBe("host");
      expect(hc.SecurityOpt).toContain("no-new-privileges");
      expect(hc.PidsLimit).toBe(4096);
      expect(hc.LogConfig?.Config).toMatchObject({ "max-size": "10m", "max-file": "3" });
      expect(hc.CapAdd ?? []).toEqual([]);
    }
  });
});
