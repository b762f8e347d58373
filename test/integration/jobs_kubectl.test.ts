/**
 * batch/v1 Jobs as kubectl 1.32 users see them, against the REST API with the control plane
 * running (over NATS) and nodes played by the API-level kubelet stand-in, whose job pods exit 0
 * after one round Running: `kubectl create job` (a protobuf body) gets the generated selector and
 * the template's labels; `get jobs` prints kube-apiserver's columns; `-o yaml`, `describe`,
 * `get all`, `wait --for=condition=complete`, `logs job/NAME` and `delete` work as on Kubernetes.
 * No Docker here.
 */
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/api.ts";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { jobPodsSucceed, useStandInControlPlane } from "../helpers/control_plane_standin.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import type { Job, Pod } from "../../model/types.ts";

// Every container "prints" one line naming its pod.
const h = useRestHarness({ logs: (req) => (async function* () { yield `hello from ${req.pod}/${req.container}\n`; })() }, 30_000);
useStandInControlPlane(h, new Set(["node-1"]), jobPodsSucceed, 30_000);
const { ok } = kubectlRunners(h, 60_000);
const jobPods = async (name: string): Promise<Pod[]> =>
  (await h.test.api.list("pods", { namespace: "default", labelSelector: `batch.kubernetes.io/job-name=${name}` })).items;

describe.sequential("kubectl and batch/v1 Jobs (REST + control plane, no Docker)", () => {
  let uid = "";

  it("kubectl create job (protobuf) makes a Job with the generated selector, the template's labels and Kubernetes' defaults", async () => {
    expect(await ok(["create", "job", "pi", "--image=berth/busybox:latest", "--", "sh", "-c", "echo hello"])).toBe("job.batch/pi created\n");
    const job: Job = await h.test.api.get("jobs", "pi", "default");
    uid = job.metadata.uid!;
    expect(uid).toBeTruthy();
    expect(job.spec.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": uid } });
    expect(job.spec.template.metadata?.labels).toEqual({
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": uid,
      "job-name": "pi",
    });
    expect(job.spec).toMatchObject({ parallelism: 1, completions: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false });
    expect(job.spec.template.spec).toMatchObject({ restartPolicy: "Never", containers: [{ name: "pi", image: "berth/busybox:latest", command: ["sh", "-c", "echo hello"] }] });
  });

  it("kubectl wait --for=condition=complete returns once the job's pod has succeeded", async () => {
    expect(await ok(["wait", "--for=condition=complete", "job/pi", "--timeout=60s"])).toBe("job.batch/pi condition met\n");
    const job: Job = await h.test.api.get("jobs", "pi", "default");
    expect(job.status).toMatchObject({ succeeded: 1 });
    expect(job.status?.conditions?.find((c) => c.type === "Complete")?.status).toBe("True");
    const pods = await jobPods("pi");
    expect(pods.map((p) => p.metadata.ownerReferences?.find((o) => o.controller))).toEqual([expect.objectContaining({ kind: "Job", name: "pi", uid })]);
  }, 90_000);

  it("kubectl get jobs prints NAME STATUS COMPLETIONS DURATION AGE, and -o wide the containers, images and selector", async () => {
    const table = await ok(["get", "jobs"]);
    expect(table).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/);
    expect(table).toMatch(/\npi\s+Complete\s+1\/1\s+\d+s\s+\d+s\n/);
    const wide = await ok(["get", "job", "pi", "-o", "wide"]);
    expect(wide).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    expect(wide).toMatch(new RegExp(`\\npi\\s+Complete\\s+1/1\\s+\\S+\\s+\\S+\\s+pi\\s+berth/busybox:latest\\s+batch\\.kubernetes\\.io/controller-uid=${uid}\\n`));

    // A work queue (completions unset, parallelism above 1) counts to one success "of" its
    // parallelism. kubectl apply validates against /openapi/v3/apis/batch/v1 and patches by it.
    const queue = (parallelism: number, field = "parallelism") => `apiVersion: batch/v1
kind: Job
metadata: {name: queue}
spec:
  ${field}: ${parallelism}
  suspend: true
  template:
    spec:
      restartPolicy: OnFailure
      containers: [{name: worker, image: berth/busybox:latest, command: [sh, -c, "echo work"]}]
`;
    expect(await ok(["apply", "-f", "-"], queue(2))).toBe("job.batch/queue created\n");
    // Never started: no DURATION, only an AGE.
    await waitFor(async () => /^queue\s+Suspended\s+0\/1 of 2\s+\d+s\n$/.test(await ok(["get", "job", "queue", "--no-headers"])), "queue Suspended 0/1 of 2, not started");
    expect(await ok(["apply", "-f", "-"], queue(3))).toBe("job.batch/queue configured\n");
    expect(await ok(["get", "job", "queue", "--no-headers"])).toMatch(/^queue\s+Suspended\s+0\/1 of 3\s+\d+s\n$/);
    const typo = await h.kubectl(["apply", "-f", "-"], { stdin: queue(3, "paralelism") });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/unknown field "spec.paralelism"/);
    expect(await jobPods("queue")).toEqual([]);
    await ok(["delete", "job", "queue"]);
  }, 60_000);

  it("kubectl get job -o yaml is the batch/v1 object with its spec, selector and status", async () => {
    const yaml = await ok(["get", "job", "pi", "-o", "yaml"]);
    expect(yaml).toMatch(/^apiVersion: batch\/v1\nkind: Job\n/);
    expect(yaml).toContain(`    matchLabels:\n      batch.kubernetes.io/controller-uid: ${uid}\n`);
    expect(yaml).toMatch(/^ {2}backoffLimit: 6$/m);
    expect(yaml).toMatch(/^ {2}completionMode: NonIndexed$/m);
    expect(yaml).toMatch(/^ {2}succeeded: 1$/m);
    expect(yaml).toMatch(/^ {4}status: "True"\n {4}type: Complete$/m);
    expect(await ok(["get", "job", "pi", "-o", "jsonpath={.status.conditions[?(@.type==\"Complete\")].status}"])).toBe("True");
  });

  it("kubectl describe job (and berth describe job) show the selector, spec, times, pod counts and template", async () => {
    const text = await ok(["describe", "job", "pi"]);
    expect(text).toMatch(/^Name:\s+pi$/m);
    expect(text).toMatch(/^Namespace:\s+default$/m);
    expect(text).toMatch(new RegExp(`^Selector:\\s+batch\\.kubernetes\\.io/controller-uid=${uid}$`, "m"));
    expect(text).toMatch(/^Parallelism:\s+1$/m);
    expect(text).toMatch(/^Completions:\s+1$/m);
    expect(text).toMatch(/^Completion Mode:\s+NonIndexed$/m);
    expect(text).toMatch(/^Start Time:\s+\w{3}, \d{2} \w{3} \d{4} /m);
    expect(text).toMatch(/^Completed At:\s+/m);
    expect(text).toMatch(/^Duration:\s+\d+s$/m);
    expect(text).toMatch(/^Pods Statuses:\s+0 Active (\(0 Ready\) )?\/ 1 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^Pod Template:\n {2}Labels:\s+batch\.kubernetes\.io\/controller-uid=/m);
    expect(text).toMatch(/^ {3}pi:\n {4}Image:\s+berth\/busybox:latest$/m);

    let out = "";
    await describeCmd(h.test.remote, ["job", "pi"], {}, (x) => (out += x));
    expect(out).toMatch(new RegExp(`^Selector:\\s+batch\\.kubernetes\\.io/controller-uid=${uid}$`, "m"));
    expect(out).toMatch(/^Completions:\s+1$/m);
    expect(out).toMatch(/^Duration:\s+\d+s$/m);
    expect(out).toMatch(/^Pods Statuses:\s+0 Active (\(0 Ready\) )?\/ 1 Succeeded \/ 0 Failed$/m);
    expect(out).toMatch(/^Pod Template:$/m);
  });

  it("kubectl get all (and berth get all) list jobs", async () => {
    const all = await ok(["get", "all"]);
    expect(all).toMatch(/^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\n/m);
    expect(all).toMatch(/^job\.batch\/pi\s+Complete\s+1\/1\s+/m);
    expect(all).toMatch(/^pod\/pi-[a-z0-9]+\s+0\/1\s+Completed\s+/m);
    let out = "";
    await getCmd(h.test.remote, ["all"], {}, (x) => (out += x));
    expect(out).toMatch(/^job\.batch\/pi\s+Complete\s+1\/1\s+/m);
  });

  it("kubectl logs job/NAME reads the log of the job's pod", async () => {
    const [pod] = await jobPods("pi");
    expect(await ok(["logs", "job/pi"])).toBe(`hello from ${pod.metadata.name}/pi\n`);
  });

  it("kubectl delete job removes the job and, in the background, its pods", async () => {
    expect(await ok(["delete", "job", "pi"])).toBe('job.batch "pi" deleted\n');
    await waitFor(async () => (await jobPods("pi")).length === 0, "the job's pods deleted by the garbage collector", 30_000);
    expect(await ok(["get", "jobs", "-o", "name"])).toBe("");
  }, 40_000);
});
