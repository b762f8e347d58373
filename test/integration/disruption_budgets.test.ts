/**
 * PodDisruptionBudgets at work, through the REST API with kubectl 1.32: the disruption
 * controller keeps a budget's status as pods come, go and get Ready; the eviction subresource
 * spends it (201), refuses what would break it (429 TooManyRequests with kube-apiserver's
 * message and cause) and lets a pod go again once the budget has recovered; `kubectl drain`
 * waits on a budget (it retries a 429 every 5 s) and never takes the ready pods below it.
 *
 * The control plane runs over NATS; nodes are played by the API-level kubelet stand-in, whose
 * rounds the test can hold back (`kubelet`) to keep a replacement pod from getting Ready, while
 * the nodes' heartbeats go on (`alive`). No Docker here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/api.ts";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { every, heartbeats, kubeletStandIn, nodeObject, rcObject } from "../helpers/control_plane_standin.ts";
import type { Pod, PodDisruptionBudget } from "../../model/types.ts";

let h: RestHarness;
let cp: ControlPlane;
let timers: ReturnType<typeof setInterval>[] = [];
/** Nodes whose heartbeats go on. */
const alive = new Set(["node-1", "node-2"]);
/** Nodes whose pods the stand-in kubelet runs (and whose graceful deletions it finishes). */
const kubelet = new Set(["node-1", "node-2"]);

const ok = (args: string[], stdin?: string): Promise<string> => h.kubectlOk(args, { stdin, timeoutMs: 60_000 });
const isReady = (p: Pod) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
const pods = async (selector: string) => (await h.test.api.list("pods", { namespace: "default", labelSelector: selector })).items;
const budget = (name: string) => h.test.api.get("poddisruptionbudgets", name, "default") as Promise<PodDisruptionBudget>;
/** POSTs an Eviction of `pod` through kubectl, as client-go's policy/v1 EvictV1 does. */
const evict = (pod: string) =>
  h.kubectl(["create", "--raw", `/api/v1/namespaces/default/pods/${pod}/eviction`, "-f", "-"], {
    stdin: JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace: "default" } }),
  });

beforeAll(async () => {
  h = await startRestHarness();
  const api = h.test.api;
  for (const n of alive) await api.create("nodes", nodeObject(n));
  timers = [every(100, () => kubeletStandIn(api, kubelet)), every(250, () => heartbeats(api, alive))];
  cp = await startControlPlane({ client: h.test.remote, scheduledEvents: false, services: false });
}, 30_000);

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await cp?.stop();
  await h?.stop();
});

describe.sequential("PodDisruptionBudgets: the disruption controller and evictions (REST, kubectl)", () => {
  it("the controller counts the budget's pods: healthy, desired, expected, allowed", async () => {
    await h.test.api.create("replicationcontrollers", rcObject("web", 3));
    await waitFor(async () => (await pods("app=web")).filter(isReady).length === 3, "3 web pods ready");
    await ok(["create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2"]);
    await waitFor(async () => (await budget("web")).status?.disruptionsAllowed === 1, "the budget allows one disruption");
    const st = (await budget("web")).status!;
    expect(st).toMatchObject({ observedGeneration: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
    expect(st.conditions?.find((c) => c.type === "DisruptionAllowed")).toMatchObject({ status: "True", reason: "SufficientPods" });
    expect(await ok(["get", "pdb", "web"])).toMatch(/web\s+2\s+N\/A\s+1\s+/);
    // kubectl's own describer, from the status the controller wrote.
    const described = await ok(["describe", "pdb", "web"]);
    expect(described).toMatch(/Min available:\s+2/);
    expect(described).toMatch(/Allowed disruptions:\s+1/);
    expect(described).toMatch(/Current:\s+3/);
  });

  it("an eviction spends the budget; the next is refused with 429 until a replacement is Ready", async () => {
    // Hold the kubelet back: the evicted pod stays Terminating and its replacement Pending.
    kubelet.clear();
    const [a, b] = (await pods("app=web")).filter(isReady).map((p) => p.metadata.name);
    const first = await evict(a);
    expect(first.code, first.stderr).toBe(0);
    // Spent by the eviction itself, before the pod's delete (the controller agrees once it sees the
    // deletion, and then drops the pod from disruptedPods: that entry is not asserted here).
    expect((await budget("web")).status!.disruptionsAllowed).toBe(0);
    expect((await h.test.api.get("pods", a, "default")).metadata.deletionTimestamp).toBeDefined();

    const refused = await evict(b);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("Error from server (TooManyRequests): Cannot evict pod as it would violate the pod's disruption budget.");
    expect((await h.test.api.get("pods", b, "default")).metadata.deletionTimestamp).toBeUndefined();
    // The controller agrees once it has seen the deletion: 2 healthy, none to spare.
    await waitFor(async () => {
      const s = (await budget("web")).status!;
      return s.currentHealthy === 2 && s.disruptionsAllowed === 0 && !s.disruptedPods;
    }, "the budget counts 2 healthy pods and no pending eviction");
    const again = await evict(b);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("TooManyRequests");

    // The kubelet back: the evicted pod goes, its replacement gets Ready, the budget has room again.
    for (const n of alive) kubelet.add(n);
    await waitFor(async () => (await budget("web")).status?.disruptionsAllowed === 1, "the budget allows one disruption again");
    const last = await evict(b);
    expect(last.code, last.stderr).toBe(0);
    await waitFor(async () => (await pods("app=web")).filter(isReady).length === 3, "3 web pods ready again");
  }, 60_000);

  it("a pod two budgets pick cannot be evicted (500, as kube-apiserver)", async () => {
    await ok(["create", "pdb", "web-too", "--selector=app=web", "--max-unavailable=1"]);
    const name = (await pods("app=web")).filter(isReady)[0].metadata.name;
    const r = await evict(name);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    expect((await h.test.api.get("pods", name, "default")).metadata.deletionTimestamp).toBeUndefined();
    await ok(["delete", "pdb", "web-too"]);
  });

  it("a percentage budget over a Job's pods fails: jobs have no scale (SyncFailed, as kube-controller-manager)", async () => {
    await h.test.api.create("jobs", {
      apiVersion: "batch/v1", kind: "Job", metadata: { name: "batch" },
      spec: { template: { metadata: { labels: { app: "batch" } }, spec: { restartPolicy: "Never", containers: [{ name: "c", image: "berth/busybox:latest" }] } } },
    }, "default");
    await waitFor(async () => (await pods("app=batch")).length === 1, "the job's pod");
    await ok(["create", "pdb", "batch", "--selector=app=batch", "--min-available=50%"]);
    await waitFor(async () => (await budget("batch")).status?.conditions?.some((c) => c.reason === "SyncFailed") ?? false, "the budget failed");
    const st = (await budget("batch")).status!;
    expect(st.disruptionsAllowed).toBe(0);
    expect(st.conditions!.find((c) => c.type === "DisruptionAllowed")).toMatchObject({ status: "False", message: "jobs.batch does not implement the scale subresource" });
    await ok(["delete", "pdb", "batch"]);
    await ok(["delete", "job", "batch"]);
  });

  it("kubectl drain waits on the budget and never takes the ready pods below it", async () => {
    for (const n of alive) kubelet.add(n);
    // Every web pod on node-2: node-1 cordoned while they are made again.
    await ok(["cordon", "node-1"]);
    await ok(["delete", "pods", "-l", "app=web", "--wait=false"]);
    await waitFor(async () => {
      const ready = (await pods("app=web")).filter(isReady);
      return ready.length === 3 && ready.every((p) => p.spec.nodeName === "node-2");
    }, "3 web pods ready on node-2", 30_000);
    await waitFor(async () => (await budget("web")).status?.disruptionsAllowed === 1, "the budget allows one disruption");
    await ok(["uncordon", "node-1"]);

    let fewest = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        fewest = Math.min(fewest, (await pods("app=web")).filter(isReady).length);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const r = await h.kubectl(["drain", "node-2", "--ignore-daemonsets", "--timeout=90s"], { timeoutMs: 120_000 });
    sampling = false;
    await sampler;
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain("node/node-2 drained");
    // kubectl's retry line for a 429: the budget made it wait.
    expect(`${r.stdout}${r.stderr}`).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(fewest).toBeGreaterThanOrEqual(2);
    await waitFor(async () => {
      const ready = (await pods("app=web")).filter(isReady);
      return ready.length === 3 && ready.every((p) => p.spec.nodeName === "node-1");
    }, "3 web pods ready on node-1", 30_000);
    await ok(["uncordon", "node-2"]);
  }, 150_000);
});
