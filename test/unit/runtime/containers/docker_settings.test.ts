import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineDns, readTail, volumeHelperLabels } from "../../../../runtime/containers/docker.ts";
import { LABELS } from "../../../../model/container_runtime.ts";
import { findOrphans } from "../../../../runtime/kubelet/container_gc.ts";

describe("Docker runtime settings", () => {
  it("a pod resolver without searches or options keeps the node's out: '.' and ndots:1 stand for none; no resolver leaves the engine's copy of the node's", () => {
    expect(engineDns({ servers: ["192.0.2.1"], search: [], options: [] })).toEqual({ Dns: ["192.0.2.1"], DnsSearch: ["."], DnsOptions: ["ndots:1"] });
    expect(engineDns({ servers: ["10.213.0.1"], search: ["ns.svc.cluster.local"], options: ["ndots:5"] })).toEqual({ Dns: ["10.213.0.1"], DnsSearch: ["ns.svc.cluster.local"], DnsOptions: ["ndots:5"] });
    expect(engineDns(undefined)).toEqual({});
  });

  it("a termination message is the file's last 4 KiB, as the kubelet's tail read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-tail-"));
    writeFileSync(join(dir, "long"), "A".repeat(904) + "B".repeat(4096));
    writeFileSync(join(dir, "short"), "bye");
    expect(await readTail(join(dir, "long"), 4096)).toBe("B".repeat(4096));
    expect(await readTail(join(dir, "short"), 4096)).toBe("bye");
    expect(await readTail(join(dir, "missing"), 4096)).toBe("");
  });

  it("a helper made for a claim volume carries the pod's labels, so the collector leaves it while the pod lives", () => {
    const claim = { [LABELS.node]: "n1", [LABELS.volumeKind]: "persistent", [LABELS.claim]: "data", [LABELS.claimUid]: "c1" };
    const helper = (labels: Record<string, string>) => ({ id: "h", state: "created" as const, labels: { ...labels, [LABELS.role]: "volume-ownership" } });
    const owner = { node: "n1", uid: "pod-1", name: "db-0", namespace: "default" };
    const live = (uid: string) => uid === "pod-1";
    expect(findOrphans([helper(volumeHelperLabels(claim, owner))], [], live).containers).toEqual([]);
    expect(findOrphans([helper(volumeHelperLabels(claim, undefined))], [], live).containers).toHaveLength(1);
  });
});
