/** Flow control's figures published under API Priority and Fairness' metric names, read at each scrape. */
import { describe, expect, it } from "vitest";
import { ComponentMetrics } from "../../../../runtime/metrics/registry.ts";
import { flowControlMetrics } from "../../../../runtime/metrics/apiserver.ts";
import { FlowControl } from "../../../../runtime/security/flow_control.ts";

describe("flow control metrics", () => {
  it("seats, executing, queued per level; dispatched and rejected grow with the figures", async () => {
    const m = new ComponentMetrics("api");
    const fc = new FlowControl({ seats: 3, levels: { workload: { maxQueued: 1, maxQueuedPerFlow: 1 } } });
    flowControlMetrics(m, () => fc.figures());
    const seats = fc.figures().workload.seats;
    // Seats, then one queued, then refusals (the level's queue holds one).
    const outcome: string[] = [];
    const releases: (() => void)[] = [];
    for (let i = 0; i < seats + 3; i++) {
      fc.acquire({ identity: `client-${i}`, resource: "pods" }).then((r) => (releases.push(r), outcome.push("seat")), () => outcome.push("refused"));
    }
    await new Promise((r) => setImmediate(r));
    expect(outcome.filter((o) => o === "refused")).toHaveLength(2);
    const text = await m.text();
    expect(text).toContain(`apiserver_flowcontrol_nominal_limit_seats{priority_level="workload"} ${seats}`);
    expect(text).toContain(`apiserver_flowcontrol_current_executing_requests{priority_level="workload"} ${seats}`);
    expect(text).toContain(`apiserver_flowcontrol_current_inqueue_requests{priority_level="workload"} 1`);
    expect(text).toContain(`apiserver_flowcontrol_dispatched_requests_total{priority_level="workload"} ${seats}`);
    expect(text).toContain(`apiserver_flowcontrol_rejected_requests_total{reason="queue-full"} 2`);
    // A second scrape adds only what grew since the first.
    expect(await m.text()).toContain(`apiserver_flowcontrol_rejected_requests_total{reason="queue-full"} 2`);
    for (const r of releases.splice(0)) r();
    await new Promise((r) => setImmediate(r));
    for (const r of releases.splice(0)) r();
  });
});
