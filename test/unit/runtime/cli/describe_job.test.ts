/** `berth describe job`: kubectl's job describer — the spec as set, the run's times, pod counts, the pod template. */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Event, Job } from "../../../../model/types.ts";

const now = Date.parse("2026-12-02T00:10:00Z");
const uid = "6f1c2a3b-0000-4000-8000-000000000001";

function job(extra: { spec?: Partial<Job["spec"]>; status?: Job["status"] } = {}): Job {
  const labels = { "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi", "controller-uid": uid, "job-name": "pi" };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default", uid, creationTimestamp: "2026-12-02T00:00:00Z", labels },
    spec: {
      parallelism: 1, completions: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false, manualSelector: false,
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
      template: {
        metadata: { labels },
        spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "berth/busybox:latest", command: ["sh", "-c", "echo hello"] }] },
      },
      ...extra.spec,
    },
    status: extra.status ?? {},
  };
}

describe("describe job", () => {
  it("a complete job: selector, spec knobs, start and completion times in RFC 1123, duration, pod counts, template, events", () => {
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "pi.1", namespace: "default" },
      involvedObject: { kind: "Job", name: "pi" }, type: "Normal", reason: "Completed", message: "Job completed",
      lastTimestamp: "2026-12-02T00:00:19Z", source: { component: "job-controller" },
    };
    const text = describeObject("jobs", job({
      spec: { activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 300 },
      status: { startTime: "2026-12-02T00:00:01Z", completionTime: "2026-12-02T00:00:19Z", succeeded: 1, ready: 0, conditions: [{ type: "Complete", status: "True" }] },
    }), [ev], now);
    const lines = text.split("\n");
    // kubectl's order of fields.
    const order = ["Name", "Namespace", "Selector", "Labels", "Annotations", "Parallelism", "Completions", "Completion Mode", "Suspend", "Backoff Limit", "TTL Seconds After Finished", "Start Time", "Completed At", "Duration", "Active Deadline Seconds", "Pods Statuses", "Pod Template", "Events"];
    const at = order.map((k) => lines.findIndex((l) => l.startsWith(`${k}:`)));
    expect(at.every((i) => i >= 0), `every field is there: ${order.filter((_, i) => at[i] < 0).join(", ")}`).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(text).toMatch(/^Selector:\s+batch\.kubernetes\.io\/controller-uid=6f1c2a3b-0000-4000-8000-000000000001$/m);
    expect(text).toMatch(/^Labels:\s+batch\.kubernetes\.io\/controller-uid=6f1c.*\n\s+batch\.kubernetes\.io\/job-name=pi\n\s+controller-uid=6f1c.*\n\s+job-name=pi$/m);
    expect(text).toMatch(/^Parallelism:\s+1$/m);
    expect(text).toMatch(/^Completions:\s+1$/m);
    expect(text).toMatch(/^Completion Mode:\s+NonIndexed$/m);
    expect(text).toMatch(/^Suspend:\s+false$/m);
    expect(text).toMatch(/^Backoff Limit:\s+6$/m);
    expect(text).toMatch(/^TTL Seconds After Finished:\s+300$/m);
    expect(text).toMatch(/^Start Time:\s+Wed, 02 Dec 2026 00:00:01 \+0000$/m);
    expect(text).toMatch(/^Completed At:\s+Wed, 02 Dec 2026 00:00:19 \+0000$/m);
    expect(text).toMatch(/^Duration:\s+18s$/m);
    expect(text).toMatch(/^Active Deadline Seconds:\s+120s$/m);
    expect(text).toMatch(/^Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^Pod Template:\n {2}Labels:\s+batch\.kubernetes\.io\/controller-uid=/m);
    expect(text).toMatch(/^ {2}Containers:\n {3}pi:\n {4}Image:\s+berth\/busybox:latest\n {4}Port:\s+<none>\n {4}Command:\s+sh -c echo hello$/m);
    expect(text).toMatch(/^ {2}Volumes:\s+<none>$/m);
    expect(text).toMatch(/^ {2}Normal\s+Completed\s+9m41s\s+job-controller\s+Job completed$/m);
  });

  it("a work queue that has not started: completions <unset>, no times, pod counts without Ready when the status has none", () => {
    const text = describeObject("jobs", job({ spec: { completions: undefined, parallelism: 3 } }), [], now);
    expect(text).toMatch(/^Completions:\s+<unset>$/m);
    expect(text).toMatch(/^Parallelism:\s+3$/m);
    expect(text).not.toMatch(/^(Start Time|Completed At|Duration|Active Deadline Seconds|TTL Seconds After Finished):/m);
    expect(text).toMatch(/^Pods Statuses:\s+0 Active \/ 0 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^Events:\s+<none>$/m);
  });

  it("a running job shows no duration (kubectl prints it once complete) and its active pods", () => {
    const text = describeObject("jobs", job({ status: { startTime: "2026-12-02T00:05:00Z", active: 1, ready: 1, failed: 2 } }), [], now);
    expect(text).toMatch(/^Start Time:\s+Wed, 02 Dec 2026 00:05:00 \+0000$/m);
    expect(text).not.toMatch(/^(Completed At|Duration):/m);
    expect(text).toMatch(/^Pods Statuses:\s+1 Active \(1 Ready\) \/ 0 Succeeded \/ 2 Failed$/m);
    expect(text).not.toMatch(/^Completed Indexes:/m);
  });

  it("an Indexed job shows its completed indexes after the pod counts, <none> before any", () => {
    const indexed = (status: Job["status"]) => describeObject("jobs", job({ spec: { completionMode: "Indexed", completions: 8, parallelism: 2 }, status }), [], now);
    const text = indexed({ startTime: "2026-12-02T00:05:00Z", active: 2, ready: 2, succeeded: 5, completedIndexes: "0-2,4,5" });
    expect(text).toMatch(/^Completion Mode:\s+Indexed$/m);
    expect(text).toMatch(/^Pods Statuses:.*\nCompleted Indexes:\s+0-2,4,5\nPod Template:/m);
    expect(indexed({})).toMatch(/^Completed Indexes:\s+<none>$/m);
  });
});
