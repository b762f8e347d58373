/**
 * `berth describe cronjob`: kubectl's (1.32) cronjob describer — the schedule and its knobs, the
 * job template (selector, parallelism, completions, pod template), the last run, the active jobs.
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { CronJob, Event } from "../../../../model/types.ts";

const now = Date.parse("2026-12-02T00:10:00Z");

function cronJob(extra: { spec?: Partial<CronJob["spec"]>; status?: CronJob["status"]; labels?: Record<string, string> } = {}): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "hello", namespace: "default", uid: "c-1", creationTimestamp: "2026-12-02T00:00:00Z", ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: {
      // What `kubectl create cronjob` sends, with the API's defaults.
      schedule: "*/1 * * * *",
      concurrencyPolicy: "Allow",
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { name: "hello" },
        spec: {
          template: {
            spec: { restartPolicy: "OnFailure", containers: [{ name: "hello", image: "berth/busybox:latest", command: ["sh", "-c", "date; echo hello"] }] },
          },
        },
      },
      ...extra.spec,
    },
    status: extra.status ?? {},
  };
}

describe("describe cronjob", () => {
  it("a new cronjob: kubectl's fields in kubectl's order, <unset> for what is not set, no active jobs", () => {
    const text = describeObject("cronjobs", cronJob(), [], now);
    const lines = text.split("\n");
    const order = [
      "Name", "Namespace", "Labels", "Annotations", "Schedule", "Concurrency Policy", "Suspend", "Successful Job History Limit",
      "Failed Job History Limit", "Starting Deadline Seconds", "Selector", "Parallelism", "Completions", "Pod Template",
      "Last Schedule Time", "Active Jobs", "Events",
    ];
    const at = order.map((k) => lines.findIndex((l) => l.startsWith(`${k}:`)));
    expect(at.every((i) => i >= 0), `every field is there: ${order.filter((_, i) => at[i] < 0).join(", ")}`).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(text).toMatch(/^Name:\s+hello$/m);
    expect(text).toMatch(/^Namespace:\s+default$/m);
    expect(text).toMatch(/^Labels:\s+<none>$/m);
    expect(text).toMatch(/^Annotations:\s+<none>$/m);
    expect(text).toMatch(/^Schedule:\s+\*\/1 \* \* \* \*$/m);
    expect(text).toMatch(/^Concurrency Policy:\s+Allow$/m);
    expect(text).toMatch(/^Suspend:\s+False$/m);
    expect(text).toMatch(/^Successful Job History Limit:\s+3$/m);
    expect(text).toMatch(/^Failed Job History Limit:\s+1$/m);
    expect(text).toMatch(/^Starting Deadline Seconds:\s+<unset>$/m);
    expect(text).toMatch(/^Selector:\s+<unset>$/m);
    expect(text).toMatch(/^Parallelism:\s+<unset>$/m);
    expect(text).toMatch(/^Completions:\s+<unset>$/m);
    expect(text).not.toMatch(/^Active Deadline Seconds:/m);
    expect(text).toMatch(/^Pod Template:\n {2}Labels:\s+<none>\n {2}Containers:\n {3}hello:\n {4}Image:\s+berth\/busybox:latest\n {4}Port:\s+<none>\n {4}Command:\s+sh -c date; echo hello$/m);
    expect(text).toMatch(/^Last Schedule Time:\s+<unset>$/m);
    expect(text).toMatch(/^Active Jobs:\s+<none>$/m);
    expect(text).toMatch(/^Events:\s+<none>$/m);
    // The first section's values line up in one column, as kubectl's tab writer prints them.
    const head = lines.slice(0, lines.findIndex((l) => l.startsWith("Pod Template:")));
    expect(new Set(head.filter((l) => /^\S/.test(l)).map((l) => l.search(/(?<=:\s+)\S/)))).toEqual(new Set([head[0].search(/(?<=:\s+)\S/)]));
  });

  it("a cronjob that has run: deadline, limits, the template's selector and counts, last schedule time in RFC 1123, active jobs, events", () => {
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "hello.1", namespace: "default" },
      involvedObject: { kind: "CronJob", name: "hello" }, type: "Normal", reason: "SuccessfulCreate", message: "Created job hello-29410209",
      lastTimestamp: "2026-12-02T00:09:00Z", source: { component: "cronjob-controller" },
    };
    const text = describeObject("cronjobs", cronJob({
      labels: { team: "a", app: "hello" },
      spec: {
        schedule: "@hourly", concurrencyPolicy: "Forbid", suspend: true, startingDeadlineSeconds: 200, successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 5,
        jobTemplate: {
          spec: {
            parallelism: 2, completions: 4, activeDeadlineSeconds: 600, selector: { matchLabels: { app: "hello" } },
            template: { metadata: { labels: { app: "hello" } }, spec: { restartPolicy: "Never", containers: [{ name: "w", image: "img" }] } },
          },
        },
      },
      status: {
        lastScheduleTime: "2026-12-02T00:09:00Z",
        active: [{ kind: "Job", name: "hello-29410208", namespace: "default" }, { kind: "Job", name: "hello-29410209", namespace: "default" }],
      },
    }), [ev], now);
    expect(text).toMatch(/^Labels:\s+app=hello\n\s+team=a$/m);
    expect(text).toMatch(/^Schedule:\s+@hourly$/m);
    expect(text).toMatch(/^Concurrency Policy:\s+Forbid$/m);
    expect(text).toMatch(/^Suspend:\s+True$/m);
    expect(text).toMatch(/^Successful Job History Limit:\s+0$/m);
    expect(text).toMatch(/^Failed Job History Limit:\s+5$/m);
    expect(text).toMatch(/^Starting Deadline Seconds:\s+200s$/m);
    expect(text).toMatch(/^Selector:\s+app=hello$/m);
    expect(text).toMatch(/^Parallelism:\s+2$/m);
    expect(text).toMatch(/^Completions:\s+4$/m);
    expect(text).toMatch(/^Active Deadline Seconds:\s+600s\nPod Template:$/m);
    expect(text).toMatch(/^Pod Template:\n {2}Labels:\s+app=hello$/m);
    expect(text).toMatch(/^Last Schedule Time:\s+Wed, 02 Dec 2026 00:09:00 \+0000$/m);
    expect(text).toMatch(/^Active Jobs:\s+hello-29410208, hello-29410209$/m);
    expect(text).toMatch(/^ {2}Normal\s+SuccessfulCreate\s+60s\s+cronjob-controller\s+Created job hello-29410209$/m);
  });

  it("an object without defaults (suspend, limits unset) says <unset>, as kubectl prints a nil pointer", () => {
    const text = describeObject("cronjobs", cronJob({ spec: { suspend: undefined, successfulJobsHistoryLimit: undefined, failedJobsHistoryLimit: undefined } }), [], now);
    expect(text).toMatch(/^Suspend:\s+<unset>$/m);
    expect(text).toMatch(/^Successful Job History Limit:\s+<unset>$/m);
    expect(text).toMatch(/^Failed Job History Limit:\s+<unset>$/m);
  });
});
