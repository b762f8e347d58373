/**
 * A pod create that fails without a definite answer may still have happened: while JetStream
 * elects a new leader for the state stream, a publish can time out on the client and be
 * committed a moment later. The RC must not make a second pod for it (the overshoot the
 * multi-machine test once saw). Here the API is real (nats-server + KV store); only the RC's
 * client is wrapped so that some creates report a 503 — once after the pod was really stored,
 * once before anything was stored — and its pod watch lags by a second, as a watch does while
 * its consumer is re-created, so the RC's next pass does not yet see a pod that landed. Every
 * pod ever created is counted by a watch of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ApiClient, Watch, WatchOptions } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { AnyObject, Pod, WatchEvent } from "../../model/types.ts";
import { every, heartbeats, kubeletStandIn, nodeObject, rcObject } from "../helpers/control_plane_standin.ts";

let t: TestApi;
let cp: ControlPlane;
let timers: ReturnType<typeof setInterval>[] = [];
const alive = new Set(["node-a", "node-b"]);
const added = new Map<string, string[]>(); // app label → names of every pod ever ADDED
let stopWatch = () => {};

/**
 * How the next pod creates of an app fail: "after" = stored, then 503; "before" = 503, nothing
 * stored; "taken" = another pod already has the chosen name (a generateName collision).
 */
const plan = new Map<string, ("after" | "before" | "taken")[]>();
const unavailable = () => new ApiError("ServiceUnavailable", "object store unavailable: TimeoutError: timeout");

const WATCH_LAG_MS = 1_000;

/** The same events, each delivered WATCH_LAG_MS after it arrived. */
function lagging<T>(w: Watch<T & AnyObject>): Watch<T & AnyObject> {
  return {
    stop: () => w.stop(),
    async *[Symbol.asyncIterator]() {
      const queue: { at: number; ev: WatchEvent<T & AnyObject> }[] = [];
      let done = false;
      let wake = () => {};
      void (async () => {
        for await (const ev of w) {
          queue.push({ at: Date.now() + WATCH_LAG_MS, ev });
          wake();
        }
        done = true;
        wake();
      })();
      for (;;) {
        const next = queue.shift();
        if (next) {
          const wait = next.at - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          yield next.ev;
          continue;
        }
        if (done) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

function flakyCreates(api: ApiClient): ApiClient {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === "watch") {
        return async (resource: string, opts?: WatchOptions) => {
          const w = await target.watch(resource as "pods", opts);
          return resource === "pods" ? lagging(w) : w;
        };
      }
      if (prop !== "create") return typeof v === "function" ? v.bind(target) : v;
      return async (resource: string, obj: Pod, ns?: string) => {
        const app = obj?.metadata?.labels?.app;
        const step = resource === "pods" && app ? plan.get(app)?.shift() : undefined;
        if (step === "before") throw unavailable();
        if (step === "taken") {
          await target.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: obj.metadata.name, labels: { app: "foreign" } }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } }, ns);
        }
        const created = await target.create(resource as "pods", obj, ns);
        if (step === "after") throw unavailable();
        return created;
      };
    },
  });
}

beforeAll(async () => {
  t = await startTestApi();
  for (const n of alive) await t.api.create("nodes", nodeObject(n));
  timers = [every(200, () => kubeletStandIn(t.api, alive)), every(250, () => heartbeats(t.api, alive))];
  const w = await t.api.watch("pods", { namespace: "default" });
  stopWatch = () => w.stop();
  void (async () => {
    for await (const ev of w) {
      if (ev.type !== "ADDED") continue;
      const pod = ev.object as Pod;
      const app = pod.metadata.labels?.app ?? "";
      added.set(app, [...(added.get(app) ?? []), pod.metadata.name]);
    }
  })();
  cp = await startControlPlane({ client: flakyCreates(t.api), scheduledEvents: false });
}, 30_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  stopWatch();
  await cp?.stop();
  await t?.stop();
});

const podsOf = async (app: string) => (await t.api.list("pods", { namespace: "default", labelSelector: `app=${app}` })).items;

describe("replication controller - a create whose outcome is unknown", () => {
  it("is not repeated as a second pod when it had in fact been stored", async () => {
    plan.set("landed", ["after", "after"]);
    await t.api.create("replicationcontrollers", rcObject("landed", 3));
    await waitFor(async () => (await podsOf("landed")).filter((p) => p.spec.nodeName).length === 3, "3 bound pods");
    // Give a double create every chance to show up before counting.
    const until = Date.now() + 2_000;
    await waitFor(() => Date.now() > until, "a settling pause", 5_000, 100);
    expect(plan.get("landed")).toEqual([]); // both injected failures were used
    expect(added.get("landed")).toHaveLength(3);
    expect(await podsOf("landed")).toHaveLength(3);
    const events = (await t.api.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.name === "landed");
    expect(events.filter((e) => e.reason === "SuccessfulCreate")).toHaveLength(3);
  });

  it("is repeated under the same name when nothing had been stored", async () => {
    plan.set("lost", ["before", "before"]);
    await t.api.create("replicationcontrollers", rcObject("lost", 2));
    await waitFor(async () => (await podsOf("lost")).filter((p) => p.spec.nodeName).length === 2, "2 bound pods");
    const until = Date.now() + 2_000;
    await waitFor(() => Date.now() > until, "a settling pause", 5_000, 100);
    expect(plan.get("lost")).toEqual([]);
    expect(added.get("lost")).toHaveLength(2);
    expect(await podsOf("lost")).toHaveLength(2);
  });

  it("a name already taken by another pod is not a failure: another name is chosen at once", async () => {
    plan.set("collide", ["taken", "taken"]);
    await t.api.create("replicationcontrollers", rcObject("collide", 2));
    await waitFor(async () => (await podsOf("collide")).length === 2, "2 pods");
    expect(plan.get("collide")).toEqual([]);
    expect(await podsOf("foreign")).toHaveLength(2); // the pods that held the names are untouched
    const events = (await t.api.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.name === "collide");
    expect(events.filter((e) => e.reason === "FailedCreate")).toEqual([]);
    expect(events.filter((e) => e.reason === "SuccessfulCreate")).toHaveLength(2);
  });
});
