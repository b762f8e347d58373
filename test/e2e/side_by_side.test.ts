/**
 * Two `berth up` clusters with Docker nodes at once on one machine: each takes its own network
 * slot (Docker bridge, pod subnet, DNS address, ClusterIP range), each serves its example app,
 * and `berth list` shows both with their homes. (Before, the second failed: both wanted the
 * berth0 gateway's port 53 and the same ClusterIPs.)
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthUp, tempHome, type RunningUp } from "../helpers/cli.ts";
import { connectCli } from "../../runtime/cli/connect.ts";
import { waitFor, waitForReplicationController } from "../../runtime/wait.ts";
import { lockBerthUpCluster } from "../helpers/berth_up_cluster.ts";

const homes = [tempHome("berth-side-a-"), tempHome("berth-side-b-")];
const ups: RunningUp[] = [];
let unlock: (() => void) | undefined;

beforeAll(async () => {
  // The default slot is the one other e2e files use: hold their lock while this file runs.
  unlock = await lockBerthUpCluster("side_by_side.test.ts");
  // Started together, as a user's test suite may.
  ups.push(...(await Promise.all(homes.map((h) => berthUp("node", h, ["--nodes", "1", "--example"], 120_000)))));
}, 180_000);

afterAll(async () => {
  // `berth up` leaves its pods' containers running when it stops (as a kubelet does, for the
  // next start to adopt): delete the workloads and wait for their containers first.
  for (const h of homes) {
    const down = berth("node", h, ["down", "--purge"]);
    if (down.code !== 0) console.error(`berth down --purge --home ${h}: ${down.stderr}`);
  }
  for (const u of ups) await u.stop();
  unlock?.();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe("clusters side by side", () => {
  it("each has its own bridge, subnet and ClusterIP range, and each serves its example app through its ClusterIP", async () => {
    const seen: { clusterIP: string; pods: string[] }[] = [];
    for (const home of homes) {
      const conn = await connectCli({ home });
      try {
        await waitForReplicationController(conn.client, "backend", { namespace: "default", timeoutMs: 90_000 });
        const ep = await waitFor(conn.client, "endpoints", (e) => (e.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0) === 3, { name: "backend-service", namespace: "default" });
        const svc = await conn.client.get("services", "backend-service", "default");
        const pods = (await conn.client.list("pods", { namespace: "default", labelSelector: "tier=backend" })).items;
        // The backends answer with their pod name; through this cluster's ClusterIP only its own pods answer.
        const answers = new Set<string>();
        for (let i = 0; i < 12; i++) {
          const r = await fetch(`http://${svc.spec.clusterIP}/`, { signal: AbortSignal.timeout(5_000) });
          answers.add((await r.text()).trim());
        }
        expect([...answers].every((a) => pods.some((p) => p.metadata.name === a))).toBe(true);
        seen.push({ clusterIP: svc.spec.clusterIP!, pods: (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)) });
      } finally {
        await conn.close();
      }
    }
    // Different ClusterIP ranges and pod subnets.
    expect(seen[0].clusterIP.split(".").slice(0, 2)).not.toEqual(seen[1].clusterIP.split(".").slice(0, 2));
    expect(seen[0].pods[0].split(".").slice(0, 2)).not.toEqual(seen[1].pods[0].split(".").slice(0, 2));
  });

  it("berth list shows both clusters with their homes and networks", () => {
    const r = berth("node", homes[0], ["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/^HOME\s+PID\s+RUNTIME\s+NETWORK\s+POD CIDR\s+SERVICE CIDR\s+API$/);
    for (const h of homes) expect(r.stdout).toContain(h);
    const rows = r.stdout.split("\n").filter((l) => homes.some((h) => l.startsWith(h)));
    expect(new Set(rows.map((l) => l.split(/\s+/)[3])).size).toBe(2);
  });
});
