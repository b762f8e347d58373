/**
 * The control plane's view of resource usage: the newest `UsageReport` of every node, heard on
 * `berth.node.*.usage` (the node's name is taken from the subject, which NATS permissions let
 * only that node publish on). A report older than three of its windows is dropped: a node that
 * stopped reporting has no current usage. Serves the metrics.k8s.io API (runtime/http/metrics_api.ts).
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { Log } from "../../model/log.ts";
import { usageReportProblem, type UsageReport } from "../../model/usage.ts";
import { subjects } from "../subjects.ts";

export interface UsageSource {
  /** The current report of each node that has one. */
  reports(): UsageReport[];
}

export class UsageStore implements UsageSource {
  private readonly latest = new Map<string, { report: UsageReport; receivedAt: number }>();
  private readonly sub: Subscription;

  constructor(nc: NatsConnection, private readonly opts: { log?: Log; now?: () => number } = {}) {
    const dec = new TextDecoder();
    this.sub = nc.subscribe(subjects.nodeUsageAll(), {
      callback: (err, msg) => {
        if (err) return;
        const node = msg.subject.split(".")[2];
        try {
          this.accept(node, JSON.parse(dec.decode(msg.data)));
        } catch (e) {
          opts.log?.("usage report refused", { node, error: String(e) });
        }
      },
    });
  }

  /** Takes a report from node `node` (throws when it is malformed). */
  accept(node: string, report: unknown): void {
    const problem = usageReportProblem(report, node);
    if (problem) throw new Error(problem);
    this.latest.set(node, { report: report as UsageReport, receivedAt: this.now() });
  }

  reports(): UsageReport[] {
    const t = this.now();
    const out: UsageReport[] = [];
    for (const [node, { report, receivedAt }] of this.latest) {
      if (t - receivedAt > 3 * report.windowSeconds * 1000 + 5_000) this.latest.delete(node);
      else out.push(report);
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  stop(): void {
    this.sub.unsubscribe();
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}
