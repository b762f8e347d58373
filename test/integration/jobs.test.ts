/**
 * batch/v1 Jobs through the whole control plane: the API (generated selector, validation,
 * immutable fields), the job controller (parallelism, completions, back-off limit, deadline,
 * suspend, TTL after finished, Indexed completion) and the garbage collector, with real node
 * agents on the hollow runtime (a pod's annotations script how long its container runs and how it
 * exits).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectInvalid, startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HOLLOW_ANNOTATIONS, HollowRuntime } from "../../runtime/containers/hollow.ts";
import { ApiError } from "../../model/errors.ts";
import { JOB_LABELS } from "../../model/job.ts";
import type { ContainerSpec } from "../../model/container_runtime.ts";
import type { Job, Pod } from "../../model/types.ts";

let t: TestApi;
let cp: ControlPlane;
const agents: NodeAgent[] = [];
/** Pod name → the env its first container was created with (what the kubelet resolved). */
const envOf = new Map<string, Record<string, string>>();

/** The hollow runtime, remembering each pod's container env. */
class EnvRecordingRuntime extends HollowRuntime {
  override async createContainer(spec: ContainerSpec): Promise<string> {
    if (!envOf.has(spec.pod.name)) envOf.set(spec.pod.name, spec.env ?? {});
    return await super.createContainer(spec);
  }
}

/** A job whose containers run `runFor` seconds and exit with `exitCode`. */
function jobObject(name: string, spec: Record<string, unknown> = {}, opts: { runFor?: number; exitCode?: number; restartPolicy?: string } = {}): unknown {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      ...spec,
      template: {
        metadata: {
          annotations: {
            ...(opts.runFor !== undefined ? { [HOLLOW_ANNOTATIONS.runFor]: String(opts.runFor) } : {}),
            [HOLLOW_ANNOTATIONS.exitCode]: String(opts.exitCode ?? 0),
          },
        },
        spec: { restartPolicy: opts.restartPolicy ?? "Never", containers: [{ name: "work", image: "berth/busybox:latest", command: ["true"] }] },
      },
    },
  };
}

const getJob = (name: string) => t.api.get("jobs", name, "default");
const podsOf = async (job: Job): Promise<Pod[]> =>
  (await t.api.list("pods", { namespace: "default", labelSelector: `${JOB_LABELS.controllerUid}=${job.metadata.uid}` })).items;
const condition = (job: Job, type: string) => job.status?.conditions?.find((c) => c.type === type && c.status === "True");
const invalid = expectInvalid;

beforeAll(async () => {
  t = await startTestApi();
  for (const name of ["job-node-a", "job-node-b"]) {
    agents.push(await startNodeAgent({ client: t.api, runtime: new EnvRecordingRuntime(), name, heartbeatIntervalMs: 500 }));
  }
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false, jobBackoff: { baseMs: 50, maxMs: 200 } });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await Promise.all(agents.map((a) => a.stop()));
  await t?.stop();
});

describe("the Job API", () => {
  it("generates the selector and the pods' labels from the job's uid and name, and defaults as Kubernetes", async () => {
    const job = await t.api.create("jobs", jobObject("defaults", {}, { runFor: 3600 }), "default");
    expect(job.spec.selector).toEqual({ matchLabels: { [JOB_LABELS.controllerUid]: job.metadata.uid } });
    expect(job.spec.template.metadata?.labels).toMatchObject({
      [JOB_LABELS.controllerUid]: job.metadata.uid,
      [JOB_LABELS.legacyControllerUid]: job.metadata.uid,
      [JOB_LABELS.jobName]: "defaults",
      [JOB_LABELS.legacyJobName]: "defaults",
    });
    // A template without labels: the job takes the generated ones (Kubernetes defaults them on read).
    expect(job.metadata.labels).toEqual(job.spec.template.metadata?.labels);
    expect(job.spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false });
    expect(job.spec.manualSelector).toBeUndefined();
    await t.api.delete("jobs", "defaults", "default");

    // A template with labels: the job keeps those alone, as Kubernetes' defaulting runs before the selector is made.
    const labelled = jobObject("labelled", { suspend: true }) as { spec: { template: { metadata: { labels?: Record<string, string> } } } };
    labelled.spec.template.metadata.labels = { app: "batch" };
    const withLabels = await t.api.create("jobs", labelled, "default");
    expect(withLabels.metadata.labels).toEqual({ app: "batch" });
    expect(withLabels.spec.template.metadata?.labels).toMatchObject({ app: "batch", [JOB_LABELS.jobName]: "labelled" });
    await t.api.delete("jobs", "labelled", "default");
  });

  it("refuses what Berth does not run, a name too long for the pods' job-name label, and counts past int32", async () => {
    for (const [field, value] of [["podFailurePolicy", { rules: [] }], ["successPolicy", { rules: [] }], ["backoffLimitPerIndex", 1], ["podReplacementPolicy", "Failed"], ["managedBy", "kueue.x-k8s.io/multikueue"]] as const) {
      expect((await invalid(t.api.create("jobs", jobObject(`unsupported-${field.toLowerCase()}`, { [field]: value }), "default"))).message).toContain(`spec.${field}`);
    }
    const long = "j".repeat(64);
    expect((await invalid(t.api.create("jobs", jobObject(long), "default"))).message).toContain("must be no more than 63 characters");
    expect((await invalid(t.api.create("jobs", jobObject("huge", { parallelism: 2 ** 31 }), "default"))).message).toContain("spec.parallelism");
    // activeDeadlineSeconds 0 is valid (non-negative), as in Kubernetes.
    const zero = await t.api.create("jobs", jobObject("zero-deadline", { activeDeadlineSeconds: 0, suspend: true }), "default");
    expect(zero.spec.activeDeadlineSeconds).toBe(0);
    await t.api.delete("jobs", "zero-deadline", "default");
  });

  it("refuses pods that would not finish, a manual selector that is missing or wrong, and changes to what is immutable", async () => {
    const always = await invalid(t.api.create("jobs", jobObject("always", {}, { restartPolicy: "Always" }), "default"));
    expect(always.message).toContain('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
    const unset = jobObject("unset") as { spec: { template: { spec: { restartPolicy?: string } } } };
    delete unset.spec.template.spec.restartPolicy;
    expect((await invalid(t.api.create("jobs", unset, "default"))).message).toContain("spec.template.spec.restartPolicy: Required value");
    expect((await invalid(t.api.create("jobs", jobObject("manual", { manualSelector: true }), "default"))).message).toContain("spec.selector: Required value");
    const wrongUid = jobObject("wrong-uid") as { spec: { template: { metadata: { labels?: Record<string, string> } } } };
    wrongUid.spec.template.metadata.labels = { [JOB_LABELS.controllerUid]: "not-the-uid" };
    expect((await invalid(t.api.create("jobs", wrongUid, "default"))).message).toMatch(/spec\.template\.metadata\.labels\[batch\.kubernetes\.io\/controller-uid\]: Invalid value: "not-the-uid": must be '[0-9a-f-]{36}'/);
    expect((await invalid(t.api.create("jobs", jobObject("indexed", { completionMode: "Indexed", parallelism: 2 }), "default"))).message).toContain("spec.completions: Required value: when completion mode is Indexed");

    // The pod admission policy applies to a job's template, as to the other workloads'.
    const host = jobObject("host-net") as { spec: { template: { spec: Record<string, unknown> } } };
    host.spec.template.spec.hostNetwork = true;
    const forbidden = await t.api.create("jobs", host, "default").then(() => undefined, (e: unknown) => e);
    expect(forbidden).toMatchObject({ reason: "Forbidden" });
    expect((forbidden as Error).message).toContain("spec.template.spec.hostNetwork");

    const job = await t.api.create("jobs", jobObject("immutable", { suspend: true }), "default");
    const changed = structuredClone(job);
    changed.spec.template.spec.containers[0].image = "berth/other:latest";
    expect((await invalid(t.api.update("jobs", changed))).message).toContain("spec.template: Invalid value");
    expect((await invalid(t.api.patch("jobs", "immutable", { spec: { completions: 5 } }, { namespace: "default" }))).message).toContain("spec.completions: Invalid value: 5: field is immutable");
    // What may change does: parallelism, suspend.
    const patched = await t.api.patch("jobs", "immutable", { spec: { parallelism: 3 } }, { namespace: "default" });
    expect(patched.spec.parallelism).toBe(3);
    await t.api.delete("jobs", "immutable", "default");
  });

  it("selects jobs by status.successful, as Kubernetes' field label", async () => {
    const job = await t.api.create("jobs", jobObject("field-sel", {}, { runFor: 0.05 }), "default");
    await waitFor(async () => condition(await getJob("field-sel"), "Complete") !== undefined, "field-sel complete");
    const names = async (sel: string) => (await t.api.list("jobs", { namespace: "default", fieldSelector: sel })).items.map((j) => j.metadata.name);
    expect(await names("status.successful=1")).toContain("field-sel");
    expect(await names("status.successful=0")).not.toContain("field-sel");
    await t.api.delete("jobs", job.metadata.name, "default");
  });
});

describe("the job controller", () => {
  it("runs completions pods, at most parallelism at once, and completes; the pods stay, Succeeded", async () => {
    const w = await t.api.watch("pods", { namespace: "default", labelSelector: `${JOB_LABELS.jobName}=four` });
    let active = 0;
    let maxActive = 0;
    const seen = new Map<string, boolean>();
    const watching = (async () => {
      for await (const ev of w) {
        const p = ev.object as Pod;
        const isActive = ev.type !== "DELETED" && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
        if (seen.get(p.metadata.name) !== isActive) {
          active += isActive ? 1 : seen.has(p.metadata.name) ? -1 : 0;
          seen.set(p.metadata.name, isActive);
        }
        maxActive = Math.max(maxActive, active);
      }
    })();
    await t.api.create("jobs", jobObject("four", { completions: 4, parallelism: 2 }, { runFor: 0.2 }), "default");
    await waitFor(async () => condition(await getJob("four"), "Complete") !== undefined, "job four complete", 20_000);
    const job = await getJob("four");
    expect(job.status).toMatchObject({ succeeded: 4 });
    expect(job.status?.active ?? 0).toBe(0);
    expect(job.status?.failed ?? 0).toBe(0);
    expect(Date.parse(job.status!.completionTime!)).toBeGreaterThanOrEqual(Date.parse(job.status!.startTime!));
    const pods = await podsOf(job);
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => p.status?.phase === "Succeeded")).toBe(true);
    // Counted, so no longer held: the tracking finalizer is off every pod, nothing is left uncounted.
    await waitFor(async () => (await podsOf(job)).every((p) => !p.metadata.finalizers?.length), "tracking finalizers off");
    expect((await getJob("four")).status?.uncountedTerminatedPods).toBeUndefined();
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === "Job" && p.metadata.ownerReferences[0].uid === job.metadata.uid)).toBe(true);
    w.stop();
    await watching;
    expect(maxActive).toBe(2);
    // Events are written in the background: wait for all four.
    await waitFor(async () => (await t.api.list("events", { namespace: "default", fieldSelector: `involvedObject.uid=${job.metadata.uid},reason=SuccessfulCreate` })).items.length === 4, "four SuccessfulCreate events");
    const completed = await waitFor(async () => (await t.api.list("events", { namespace: "default", fieldSelector: `involvedObject.uid=${job.metadata.uid},reason=Completed` })).items[0], "a Completed event");
    // Recorded once: a repeat would be counted on the same Event.
    expect(completed.count).toBe(1);
  }, 30_000);

  it("an Indexed job runs each index 0..completions−1 once, at most parallelism at once, and completes with completedIndexes", async () => {
    await t.api.create("jobs", jobObject("idx", { completions: 5, parallelism: 2, completionMode: "Indexed" }, { runFor: 0.2 }), "default");
    await waitFor(async () => condition(await getJob("idx"), "Complete") !== undefined, "indexed job complete", 20_000);
    const job = await getJob("idx");
    expect(job.status).toMatchObject({ succeeded: 5, completedIndexes: "0-4" });
    expect(job.status?.failed ?? 0).toBe(0);
    const pods = await podsOf(job);
    expect(pods).toHaveLength(5);
    const key = "batch.kubernetes.io/job-completion-index";
    for (const p of pods) {
      const ix = p.metadata.annotations?.[key];
      expect(p.metadata.labels?.[key]).toBe(ix);
      expect(p.metadata.name).toMatch(new RegExp(`^idx-${ix}-[a-z0-9]{5}$`));
      expect(p.spec.hostname).toBe(`idx-${ix}`);
      expect(p.spec.containers[0].env).toContainEqual({ name: "JOB_COMPLETION_INDEX", valueFrom: { fieldRef: { fieldPath: `metadata.labels['${key}']` } } });
      // The kubelet resolved it through the downward API.
      expect(envOf.get(p.metadata.name)?.JOB_COMPLETION_INDEX).toBe(ix);
    }
    expect(pods.map((p) => p.metadata.annotations?.[key]).sort()).toEqual(["0", "1", "2", "3", "4"]);
    // At most two at once: no two pods' runs overlap by more than parallelism (start times from the kubelet).
    const spans = pods.map((p) => [Date.parse(p.status!.startTime!), Date.parse(p.status!.containerStatuses![0].state!.terminated!.finishedAt!)] as const);
    for (const [s] of spans) expect(spans.filter(([a, b]) => a <= s && s < b).length).toBeLessThanOrEqual(2);
  }, 30_000);

  it("puts the job-tracking finalizer on its pods; a pod deleted while it runs counts as a failure and is replaced", async () => {
    const job = await t.api.create("jobs", jobObject("replaced", { backoffLimit: 3 }, { runFor: 3600 }), "default");
    const [first] = await waitFor(async () => {
      const ps = (await podsOf(job)).filter((p) => p.status?.phase === "Running");
      return ps.length === 1 ? ps : null;
    }, "the first pod running", 20_000);
    expect(first.metadata.finalizers).toEqual(["batch.kubernetes.io/job-tracking"]);
    await t.api.delete("pods", first.metadata.name, "default");
    await waitFor(async () => (await getJob("replaced")).status?.failed === 1, "the deleted pod counted as failed", 20_000);
    await waitFor(async () => (await podsOf(job)).some((p) => p.metadata.uid !== first.metadata.uid && p.status?.phase === "Running"), "a replacement running", 20_000);
    // The deleted pod went, its finalizer taken off once it was counted.
    await waitFor(async () => !(await podsOf(job)).some((p) => p.metadata.uid === first.metadata.uid), "the deleted pod gone", 20_000);
    await t.api.delete("jobs", "replaced", "default");
    await waitFor(async () => (await podsOf(job)).length === 0, "replaced's pods gone with it", 20_000);
  }, 40_000);

  it("a job whose pods are refused still records its start and fails at its deadline", async () => {
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "no-pods" } });
    await t.api.create("resourcequotas", { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "none", namespace: "no-pods" }, spec: { hard: { pods: "0" } } }, "no-pods");
    await t.api.create("jobs", jobObject("starved", { activeDeadlineSeconds: 1 }), "no-pods");
    const failed = await waitFor(async () => {
      const j = await t.api.get("jobs", "starved", "no-pods");
      return j.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True") ? j : null;
    }, "starved job failed at its deadline", 20_000);
    expect(failed.status?.startTime).toBeDefined();
    expect(failed.status?.conditions?.find((c) => c.type === "Failed")?.reason).toBe("DeadlineExceeded");
    const events = (await t.api.list("events", { namespace: "no-pods", fieldSelector: `involvedObject.uid=${failed.metadata.uid}` })).items;
    expect(events.some((e) => e.reason === "FailedCreate")).toBe(true);
    await t.api.delete("namespaces", "no-pods");
  }, 30_000);

  it("a work queue (completions unset) is done once a pod has succeeded and none runs", async () => {
    await t.api.create("jobs", jobObject("queue", { parallelism: 2 }, { runFor: 0.2 }), "default");
    await waitFor(async () => condition(await getJob("queue"), "Complete") !== undefined, "queue complete", 20_000);
    const job = await getJob("queue");
    expect(job.status?.succeeded).toBe(2);
    expect(job.spec.completions).toBeUndefined();
  }, 30_000);

  it("fails with BackoffLimitExceeded after backoffLimit + 1 failed pods, and starts no more", async () => {
    await t.api.create("jobs", jobObject("failing", { backoffLimit: 2 }, { runFor: 0.05, exitCode: 3 }), "default");
    await waitFor(async () => condition(await getJob("failing"), "Failed") !== undefined, "failing job failed", 20_000);
    const job = await getJob("failing");
    expect(condition(job, "Failed")).toMatchObject({ reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" });
    expect(job.status?.failed).toBe(3);
    expect(job.status?.completionTime).toBeUndefined();
    const pods = await podsOf(job);
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.status?.phase === "Failed")).toBe(true);
  }, 30_000);

  it("fails with DeadlineExceeded past activeDeadlineSeconds and deletes the pods that still run", async () => {
    await t.api.create("jobs", jobObject("slow", { activeDeadlineSeconds: 1, parallelism: 2, completions: 2 }, { runFor: 3600 }), "default");
    await waitFor(async () => condition(await getJob("slow"), "Failed") !== undefined, "slow job failed", 20_000);
    const job = await getJob("slow");
    expect(condition(job, "Failed")).toMatchObject({ reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" });
    await waitFor(async () => (await podsOf(job)).length === 0, "the slow job's pods deleted", 20_000);
    // The pods it stopped count as failed, as Kubernetes counts every pod of a failed job that did not succeed.
    await waitFor(async () => (await getJob("slow")).status?.failed === 2, "two failed", 20_000);
  }, 30_000);

  it("a suspended job runs nothing until resumed", async () => {
    await t.api.create("jobs", jobObject("paused", { suspend: true }, { runFor: 0.1 }), "default");
    await waitFor(async () => condition(await getJob("paused"), "Suspended") !== undefined, "paused job Suspended");
    expect(await podsOf(await getJob("paused"))).toHaveLength(0);
    await t.api.patch("jobs", "paused", { spec: { suspend: false } }, { namespace: "default" });
    await waitFor(async () => condition(await getJob("paused"), "Complete") !== undefined, "paused job complete after resume", 20_000);
    const job = await getJob("paused");
    expect(job.status?.conditions?.find((c) => c.type === "Suspended")).toMatchObject({ status: "False", reason: "JobResumed" });
  }, 30_000);

  it("ttlSecondsAfterFinished deletes the finished job and its pods", async () => {
    const created = await t.api.create("jobs", jobObject("short-lived", { ttlSecondsAfterFinished: 1 }, { runFor: 0.05 }), "default");
    await waitFor(async () => {
      try {
        await getJob("short-lived");
        return false;
      } catch (e) {
        return e instanceof ApiError && e.reason === "NotFound";
      }
    }, "short-lived job deleted", 20_000);
    await waitFor(async () => (await podsOf(created)).length === 0, "its pod collected", 20_000);
  }, 30_000);

  it("deleting a running job deletes its pods; orphaning keeps them", async () => {
    const job = await t.api.create("jobs", jobObject("doomed", { parallelism: 2, completions: 2 }, { runFor: 3600 }), "default");
    await waitFor(async () => (await podsOf(job)).filter((p) => p.status?.phase === "Running").length === 2, "two doomed pods running", 20_000);
    await t.api.delete("jobs", "doomed", "default");
    await waitFor(async () => (await podsOf(job)).length === 0, "doomed pods collected", 20_000);

    const kept = await t.api.create("jobs", jobObject("orphaner", {}, { runFor: 3600 }), "default");
    await waitFor(async () => (await podsOf(kept)).length === 1, "orphaner pod", 20_000);
    await t.api.delete("jobs", "orphaner", "default", { propagationPolicy: "Orphan" });
    const [orphan] = await podsOf(kept);
    expect(orphan.metadata.ownerReferences).toBeUndefined();
    // No job will count it: its tracking finalizer comes off, so it can be deleted like any pod.
    await waitFor(async () => !(await t.api.get("pods", orphan.metadata.name, "default")).metadata.finalizers?.length, "the orphan's tracking finalizer off", 20_000);
    await t.api.delete("pods", orphan.metadata.name, "default", { gracePeriodSeconds: 0 });
    await waitFor(async () => (await podsOf(kept)).length === 0, "the orphan deleted", 20_000);
  }, 40_000);
});
