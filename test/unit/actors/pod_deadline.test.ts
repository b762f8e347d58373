/**
 * The pod actor's activeDeadlineSeconds (the kubelet's activeDeadlineHandler), with effects the
 * test controls: a deadline that passes while a step is in flight lets the step finish, then
 * starts nothing more; the pod is stopped, read back without restarts and reported Failed.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createActor, fromPromise } from "xstate";
import { DEADLINE_FAILURE, type KillInput, type KillOutput, type PodEvent, podMachine, type SandboxStepInput, type SandboxStepOutput, type SyncStepInput, type SyncStepOutput } from "../../../actors/pod.ts";
import type { Pod, PodStatus } from "../../../model/types.ts";
import { newRecord } from "../../../actors/pod_backoff.ts";
import { waitFor } from "../../helpers/nats.ts";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

const pod = (startedSecondsAgo: number, deadline: number): Pod => ({
  apiVersion: "v1", kind: "Pod",
  metadata: { name: "d", namespace: "default", uid: "uid-d" },
  spec: { nodeName: "h1", activeDeadlineSeconds: deadline, terminationGracePeriodSeconds: 3, containers: [{ name: "app", image: "i" }] },
  status: { phase: "Pending", startTime: new Date(Date.now() - startedSecondsAgo * 1000).toISOString() },
});

const until = (f: () => boolean, what: string) => waitFor(f, what, 5000, 5);

describe("pod actor: activeDeadlineSeconds", () => {
  test("a deadline that passes during the sandbox step: the step finishes, no container is started, the pod fails", async () => {
    let releaseSandbox!: () => void;
    const syncs: SyncStepInput[] = [];
    const kills: KillInput[] = [];
    const statuses: PodStatus[] = [];
    const events: PodEvent[] = [];
    const actor = createActor(podMachine.provide({
      actors: {
        ensureSandbox: fromPromise<SandboxStepOutput, SandboxStepInput>(async ({ input }) => {
          await new Promise<void>((r) => (releaseSandbox = r));
          return { sandbox: { id: "sb", running: true, ip: "10.0.0.5", hostPorts: {}, labels: {} }, records: input.records, events: [] };
        }),
        syncContainers: fromPromise<SyncStepOutput, SyncStepInput>(async ({ input }) => {
          syncs.push(input);
          return { records: input.records, events: [] };
        }),
        killContainer: fromPromise<KillOutput, KillInput>(async ({ input }) => {
          kills.push(input);
          return { ids: input.kills.map((k) => k.id), events: [] };
        }),
      },
      actions: {
        reportStatus: (_, p) => void statuses.push(p.status),
        recordEvents: (_, p) => void events.push(...p.events),
      },
    }), { input: { pod: pod(5, 2), node: "h1", hostIP: "127.0.0.1", retryMs: 50 } });
    actor.start();
    stops.push(() => actor.stop());
    // Past its deadline already (started 5 s ago, 2 s allowed): the timer fires while the sandbox step waits.
    await until(() => actor.getSnapshot().context.deadlineExceeded, "the deadline");
    expect(actor.getSnapshot().matches({ active: "sandbox" })).toBe(true);
    releaseSandbox();
    await until(() => actor.getSnapshot().matches("failed"), "failed");
    // Nothing was started: the only sync read the states back.
    expect(syncs.map((s) => s.observeOnly)).toEqual([true]);
    expect(kills).toHaveLength(1);
    expect(kills[0].kills).toEqual([]);
    expect(kills[0].graceSeconds).toBe(3);
    const last = statuses[statuses.length - 1];
    expect(last).toMatchObject({ phase: "Failed", reason: DEADLINE_FAILURE.reason, message: DEADLINE_FAILURE.message });
    expect(events).toContainEqual({ type: "Normal", reason: "DeadlineExceeded", message: DEADLINE_FAILURE.message });
  });

  test("a running pod past its deadline: its running containers are stopped with the pod's grace period", async () => {
    const kills: KillInput[] = [];
    const actor = createActor(podMachine.provide({
      actors: {
        ensureSandbox: fromPromise<SandboxStepOutput, SandboxStepInput>(async ({ input }) => ({ sandbox: { id: "sb", running: true, ip: "10.0.0.5", hostPorts: {}, labels: {} }, records: input.records, events: [] })),
        syncContainers: fromPromise<SyncStepOutput, SyncStepInput>(async ({ input }) => ({
          records: input.observeOnly
            ? input.records.map((r) => ({ ...r, state: { kind: "terminated" as const, terminated: { exitCode: 137, reason: "Error" } } }))
            : [{ ...newRecord("app"), id: "c1", started: true, state: { kind: "running" as const } }],
          events: [],
        })),
        killContainer: fromPromise<KillOutput, KillInput>(async ({ input }) => {
          kills.push(input);
          return { ids: input.kills.map((k) => k.id), events: [] };
        }),
      },
    }), { input: { pod: pod(0, 1), node: "h1", hostIP: "127.0.0.1", retryMs: 50, resyncMs: 60_000 } });
    actor.start();
    stops.push(() => actor.stop());
    await until(() => actor.getSnapshot().matches({ active: "running" }), "running");
    await until(() => actor.getSnapshot().matches("failed"), "failed after a second");
    expect(kills.map((k) => k.kills)).toEqual([[{ id: "c1", name: "app" }]]);
    const status = actor.getSnapshot().context.status!;
    expect(status.phase).toBe("Failed");
    expect(status.containerStatuses?.[0].state.terminated?.exitCode).toBe(137);
    expect(status.containerStatuses?.[0].ready).toBe(false);
  });
});
