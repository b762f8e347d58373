/**
 * batch/v1 CronJobs as kubectl 1.32 users see them, against the REST API with the control plane
 * running (over NATS) and nodes played by the API-level kubelet stand-in, whose job pods exit 0
 * after one round Running: `kubectl create cronjob` (a protobuf body) gets Kubernetes' defaults;
 * `get cronjobs|cj` prints kube-apiserver's columns; `-o yaml`, `describe`, `get all`,
 * `create job --from=cronjob/`, `patch` and `delete` work as on Kubernetes, and a bad schedule
 * is refused naming spec.schedule.
 *
 * Nothing here waits for a schedule to fire (a minute is too long for a test; the controller's
 * scheduling is tested on a clock of its own): `hello` runs every minute as in kubectl's
 * examples, so its ACTIVE and LAST SCHEDULE cells may or may not show a run, and `yearly`, on a
 * schedule that does not fire during a test, shows the cells of a cronjob that has never run.
 * No Docker here.
 */
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/api.ts";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { jobPodsSucceed, useStandInControlPlane } from "../helpers/control_plane_standin.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import type { CronJob, Job } from "../../model/types.ts";

const h = useRestHarness({}, 30_000);
useStandInControlPlane(h, new Set(["node-1"]), jobPodsSucceed, 30_000);
const { ok } = kubectlRunners(h, 60_000);
/** The jobs whose controller is the cronjob with this uid. */
const jobsOf = async (uid: string): Promise<Job[]> =>
  (await h.test.api.list("jobs", { namespace: "default" })).items.filter((j) => j.metadata.ownerReferences?.some((o) => o.controller && o.uid === uid));

describe.sequential("kubectl and batch/v1 CronJobs (REST + control plane, no Docker)", () => {
  let uid = "";

  it("kubectl create cronjob (protobuf) makes a CronJob with the schedule, a job template named after it and Kubernetes' defaults", async () => {
    expect(await ok(["create", "cronjob", "hello", "--image=berth/busybox:latest", "--schedule=*/1 * * * *", "--", "sh", "-c", "date; echo hello"])).toBe("cronjob.batch/hello created\n");
    const cj: CronJob = await h.test.api.get("cronjobs", "hello", "default");
    uid = cj.metadata.uid!;
    expect(uid).toBeTruthy();
    expect(cj.spec).toMatchObject({ schedule: "*/1 * * * *", concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(cj.spec.timeZone).toBeUndefined();
    expect(cj.spec.startingDeadlineSeconds).toBeUndefined();
    expect(cj.spec.jobTemplate.metadata?.name).toBe("hello");
    expect(cj.spec.jobTemplate.spec.template.spec).toMatchObject({
      restartPolicy: "OnFailure",
      containers: [{ name: "hello", image: "berth/busybox:latest", command: ["sh", "-c", "date; echo hello"] }],
    });
  });

  it("kubectl get cronjobs / get cj print NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE, and -o wide the template's containers, images and selector", async () => {
    // kubectl apply validates against /openapi/v3/apis/batch/v1; a time zone shows in TIMEZONE.
    const yearly = `apiVersion: batch/v1
kind: CronJob
metadata: {name: yearly}
spec:
  schedule: "0 3 1 1 *"
  timeZone: Europe/Oslo
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: report, image: berth/busybox:latest, command: [sh, -c, "echo report"]}]
`;
    expect(await ok(["apply", "-f", "-"], yearly)).toBe("cronjob.batch/yearly created\n");

    const table = await ok(["get", "cronjobs"]);
    expect(table).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\n/);
    // hello may have run already (every minute): ACTIVE and LAST SCHEDULE either way.
    expect(table).toMatch(/\nhello\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d+\s+(<none>|\d+s)\s+\d+s\n/);
    expect(table).toMatch(/\nyearly\s+0 3 1 1 \*\s+Europe\/Oslo\s+False\s+0\s+<none>\s+\d+s\n/);
    expect(await ok(["get", "cj", "yearly", "--no-headers"])).toMatch(/^yearly\s+0 3 1 1 \*\s+Europe\/Oslo\s+False\s+0\s+<none>\s+\d+s\n$/);
    const wide = await ok(["get", "cj", "yearly", "-o", "wide"]);
    expect(wide).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    expect(wide).toMatch(/\nyearly\s+0 3 1 1 \*\s+Europe\/Oslo\s+False\s+0\s+<none>\s+\d+s\s+report\s+berth\/busybox:latest\s+<none>\n$/);

    // A typo in a field is refused by kubectl apply's field validation.
    const typo = await h.kubectl(["apply", "-f", "-"], { stdin: yearly.replace("timeZone", "timezone") });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/unknown field "spec.timezone"/);

    let out = "";
    await getCmd(h.test.remote, ["cj", "yearly"], {}, (x) => (out += x));
    expect(out).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\nyearly\s+0 3 1 1 \*\s+Europe\/Oslo\s+False\s+0\s+<none>\s+\d+s\n$/);
    await ok(["delete", "cronjob", "yearly"]);
  });

  it("kubectl get cj -o yaml is the batch/v1 object with the schedule, the defaults and the job template", async () => {
    const yaml = await ok(["get", "cj", "hello", "-o", "yaml"]);
    expect(yaml).toMatch(/^apiVersion: batch\/v1\nkind: CronJob\n/);
    expect(yaml).toMatch(/^ {2}schedule: '\*\/1 \* \* \* \*'$/m);
    expect(yaml).toMatch(/^ {2}concurrencyPolicy: Allow$/m);
    expect(yaml).toMatch(/^ {2}suspend: false$/m);
    expect(yaml).toMatch(/^ {2}successfulJobsHistoryLimit: 3$/m);
    expect(yaml).toMatch(/^ {2}failedJobsHistoryLimit: 1$/m);
    expect(yaml).toMatch(/^ {2}jobTemplate:\n {4}metadata:\n(?: {6}.*\n)*? {6}name: hello\n {4}spec:\n {6}template:\n/m);
    expect(yaml).toMatch(/^ {10}restartPolicy: OnFailure$/m);
    expect(await ok(["get", "cj", "hello", "-o", "jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].image}"])).toBe("berth/busybox:latest");
  });

  it("kubectl describe cronjob (and berth describe cronjob) show the schedule, its knobs, the job template and the active jobs", async () => {
    const text = await ok(["describe", "cronjob", "hello"]);
    expect(text).toMatch(/^Name:\s+hello$/m);
    expect(text).toMatch(/^Namespace:\s+default$/m);
    expect(text).toMatch(/^Schedule:\s+\*\/1 \* \* \* \*$/m);
    expect(text).toMatch(/^Concurrency Policy:\s+Allow$/m);
    expect(text).toMatch(/^Suspend:\s+False$/m);
    expect(text).toMatch(/^Successful Job History Limit:\s+3$/m);
    expect(text).toMatch(/^Failed Job History Limit:\s+1$/m);
    expect(text).toMatch(/^Starting Deadline Seconds:\s+<unset>$/m);
    expect(text).toMatch(/^Selector:\s+<unset>$/m);
    expect(text).toMatch(/^Parallelism:\s+<unset>$/m);
    expect(text).toMatch(/^Completions:\s+<unset>$/m);
    expect(text).toMatch(/^Pod Template:\n {2}Labels:\s+<none>$/m);
    expect(text).toMatch(/^ {3}hello:\n {4}Image:\s+berth\/busybox:latest$/m);
    expect(text).toMatch(/^Last Schedule Time:\s+(<unset>|\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:00 [+-]\d{4})$/m);
    expect(text).toMatch(/^Active Jobs:\s+(<none>|hello-\d+)$/m);

    let out = "";
    await describeCmd(h.test.remote, ["cronjob", "hello"], {}, (x) => (out += x));
    expect(out).toMatch(/^Schedule:\s+\*\/1 \* \* \* \*$/m);
    expect(out).toMatch(/^Concurrency Policy:\s+Allow$/m);
    expect(out).toMatch(/^Suspend:\s+False$/m);
    expect(out).toMatch(/^Successful Job History Limit:\s+3$/m);
    expect(out).toMatch(/^Starting Deadline Seconds:\s+<unset>$/m);
    expect(out).toMatch(/^Pod Template:$/m);
    expect(out).toMatch(/^Last Schedule Time:\s+/m);
    expect(out).toMatch(/^Active Jobs:\s+/m);
  });

  it("kubectl create job --from=cronjob/ makes a job from the template, owned by the cronjob, that runs to completion", async () => {
    expect(await ok(["create", "job", "manual", "--from=cronjob/hello"])).toBe("job.batch/manual created\n");
    const job: Job = await h.test.api.get("jobs", "manual", "default");
    expect(job.metadata.annotations).toMatchObject({ "cronjob.kubernetes.io/instantiate": "manual" });
    expect(job.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: "batch/v1", kind: "CronJob", name: "hello", uid, controller: true })]);
    expect(job.spec.template.spec).toMatchObject({ restartPolicy: "OnFailure", containers: [{ name: "hello", image: "berth/busybox:latest", command: ["sh", "-c", "date; echo hello"] }] });
    expect(job.spec.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": job.metadata.uid } });

    expect(await ok(["wait", "--for=condition=complete", "job/manual", "--timeout=60s"])).toBe("job.batch/manual condition met\n");
    expect(await ok(["get", "job", "manual", "--no-headers"])).toMatch(/^manual\s+Complete\s+1\/1\s+/);
  }, 90_000);

  it("kubectl get all (and berth get all) list cronjobs, before jobs as kubectl orders them", async () => {
    const all = await ok(["get", "all"]);
    expect(all).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\n/m);
    expect(all).toMatch(/^cronjob\.batch\/hello\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+/m);
    expect(all).toMatch(/^job\.batch\/manual\s+Complete\s+1\/1\s+/m);
    expect(all.indexOf("cronjob.batch/hello")).toBeLessThan(all.indexOf("job.batch/manual"));
    let out = "";
    await getCmd(h.test.remote, ["all"], {}, (x) => (out += x));
    expect(out).toMatch(/^cronjob\.batch\/hello\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+/m);
    expect(out.indexOf("cronjob.batch/hello")).toBeLessThan(out.indexOf("job.batch/manual"));
  });

  it("kubectl patch cronjob suspends it: SUSPEND True", async () => {
    expect(await ok(["patch", "cronjob", "hello", "-p", '{"spec":{"suspend":true}}'])).toBe("cronjob.batch/hello patched\n");
    expect((await h.test.api.get("cronjobs", "hello", "default")).spec.suspend).toBe(true);
    expect(await ok(["get", "cj", "hello", "--no-headers"])).toMatch(/^hello\s+\*\/1 \* \* \* \*\s+<none>\s+True\s+\d+\s+/);
    expect(await ok(["describe", "cj", "hello"])).toMatch(/^Suspend:\s+True$/m);
  });

  it("an invalid schedule is refused, naming spec.schedule; nothing is stored", async () => {
    const bad = await h.kubectl(["create", "cronjob", "bad", "--image=x", "--schedule=61 * * * *"]);
    expect(bad.code).not.toBe(0);
    // kube-apiserver names the kind CronJob.batch; Berth's Invalid errors name the kind alone.
    expect(bad.stderr).toMatch(/CronJob(\.batch)? "bad" is invalid: spec\.schedule: Invalid value: "61 \* \* \* \*": .*\b61\b/);
    const missing = await h.kubectl(["get", "cronjob", "bad"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cronjobs(\.batch)? "bad" not found/);
  });

  it("kubectl delete cronjob removes it and, in the background, its jobs and their pods", async () => {
    expect((await jobsOf(uid)).map((j) => j.metadata.name)).toContain("manual");
    expect(await ok(["delete", "cronjob", "hello"])).toBe('cronjob.batch "hello" deleted\n');
    expect(await ok(["get", "cronjobs", "-o", "name"])).toBe("");
    await waitFor(async () => (await jobsOf(uid)).length === 0, "the cronjob's jobs deleted by the garbage collector", 30_000);
    const pods = async () => (await h.test.api.list("pods", { namespace: "default", labelSelector: "batch.kubernetes.io/job-name=manual" })).items;
    await waitFor(async () => (await pods()).length === 0, "the manual job's pods deleted", 30_000);
  }, 70_000);
});
