/**
 * A readiness verdict that arrives while a sync step is in flight is newer than the records the
 * step began with. The chaos run "container paused" found the bug: a resync in flight when the
 * server froze put `ready: true` back over the prober's failure, so the frozen pod stayed in its
 * Service's endpoints until the prober's next resend (5 periods later). The pure overlay first,
 * then the real pod actor on the hollow runtime with the sync step held open.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createActor, fromCallback, fromPromise } from "xstate";
import { podMachine, withVerdicts, type SyncStepInput, type SyncStepOutput } from "../../../actors/pod.ts";
import { newRecord, type ContainerRecord } from "../../../actors/pod_backoff.ts";
import type { Pod, PodStatus } from "../../../model/types.ts";
import { HollowRuntime } from "../../../runtime/containers/hollow.ts";
import { podEffects, syncContainers } from "../../../runtime/kubelet/pod_effects.ts";

const running = (id: string, ready: boolean): ContainerRecord => ({ ...newRecord("c"), id, started: true, ready, state: { kind: "running" } });

describe("readiness verdicts over a sync step's records", () => {
  test("the verdict wins for a running attempt with the same id; other attempts and states are left alone", () => {
    const exited: ContainerRecord = { ...running("a", false), state: { kind: "terminated", terminated: { exitCode: 0, reason: "Completed" } } };
    const { records, verdicts } = withVerdicts([running("a", true), running("b", false), exited], { a: false, b: true, gone: true });
    expect(records.map((r) => r.ready)).toEqual([false, true, false]);
    expect(verdicts).toEqual({ a: false, b: true }); // the verdict of an attempt no longer there is dropped
    // A replaced attempt (new id) starts from its own record, not the old attempt's verdict.
    expect(withVerdicts([running("new", false)], { a: true }).records[0].ready).toBe(false);
  });

  test("a passed startup probe is laid over the step's records for the same attempt only, and forgotten with it", () => {
    const out = withVerdicts([running("a", false), running("b", false)], {}, { a: true, gone: true });
    expect(out.records.map((r) => r.startupPassedId)).toEqual(["a", undefined]);
    expect(out.startups).toEqual({ a: true });
    // A new attempt of the container must pass its own startup probe: the old attempt's pass
    // (carried on its record) is not the new attempt's.
    const next = withVerdicts([{ ...running("new", false), startupPassedId: "a" }], {}, { a: true }).records[0];
    expect(next.startupPassedId === next.id).toBe(false);
  });
});

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

describe("pod actor: a readiness failure during a resync", () => {
  test("is not undone by the resync's result: the last status reported says not ready", async () => {
    const rt = new HollowRuntime();
    const pod: Pod = {
      apiVersion: "v1", kind: "Pod",
      metadata: { name: "web", namespace: "default", uid: "uid-web" },
      spec: { nodeName: "h1", containers: [{ name: "c", image: "berth/busybox", readinessProbe: { httpGet: { path: "/", port: 80 }, periodSeconds: 1 } }] },
    };
    const opts = { node: "h1" };
    // The sync step computes its result, then waits for the test to let it finish.
    let hold: Promise<void> | undefined;
    let held = false;
    const statuses: PodStatus[] = [];
    const actor = createActor(podMachine.provide({
      actors: {
        ...podEffects(rt, opts).actors,
        syncContainers: fromPromise<SyncStepOutput, SyncStepInput>(async ({ input }) => {
          const out = await syncContainers(rt, opts, input);
          if (hold) {
            held = true;
            await hold;
          }
          return out;
        }),
        prober: fromCallback(() => () => {}), // verdicts are sent by the test
      },
      actions: { reportStatus: (_, p) => void statuses.push(p.status), recordEvents: () => {} },
    }), { input: { pod, node: "h1", hostIP: "127.0.0.1", resyncMs: 60_000, retryMs: 50 } });
    actor.start();
    stops.push(() => actor.stop());
    const ready = () => statuses[statuses.length - 1]?.containerStatuses?.[0]?.ready;
    const until = async (f: () => boolean, what: string) => {
      const end = Date.now() + 5_000;
      while (!f()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(statuses[statuses.length - 1])}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    await until(() => actor.getSnapshot().matches({ active: "running" }), "running");
    const id = actor.getSnapshot().context.records[0].id!;
    actor.send({ type: "PROBE_RESULT", container: "c", containerId: id, probe: "readiness", result: "success" });
    await until(() => ready() === true, "ready");

    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    actor.send({ type: "RESYNC" }); // the resync begins from records that say ready
    await until(() => held, "the resync step in flight");
    actor.send({ type: "PROBE_RESULT", container: "c", containerId: id, probe: "readiness", result: "failure" });
    expect(ready()).toBe(false);
    const reports = statuses.length;
    hold = undefined;
    release();
    await until(() => statuses.length > reports && actor.getSnapshot().matches({ active: "running" }), "the resync's report");
    expect(ready()).toBe(false);
    expect(actor.getSnapshot().context.records[0].ready).toBe(false);
  });
});
