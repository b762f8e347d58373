/**
 * The pod actor: one per pod bound to a node; drives the pod's containers through the runtime.
 *
 *   ┌───────────────────── active (spawns the prober if a container has a probe) ──────────────┐
 *   │                                                                                          │
 *   │  ┌─────────┐ ok  ┌────────────┐ all up   ┌─────────┐ app died / resync / probe verdict    │
 *   │  │ sandbox │────►│ containers │─────────►│ running │──────────────┐                      │
 *   │  └─────────┘     └────────────┘          └─────────┘              │                      │
 *   │    ▲  │ error      ▲  │  │ some in back-off  ▲ liveness failed    │                      │
 *   │    │  ▼            │  │  ▼                    │      ┌─────────┐  │                      │
 *   │    │ sandboxRetry  │  │ restarting ──timer────┘      │ killing │──┘ (then containers)    │
 *   │    │               │  │ all finished (Never/OnFailure) ──► completed                     │
 *   │    └── infra container died (any state): the whole sandbox is recreated                 │
 *   │  POD_UPDATED with a new container image → dirty → containers (stop, recreate that one)   │
 *   └──────────────────────────────────────────────────────────────────────────────────────────┘
 *      │ activeDeadlineSeconds past (a timer child, for pods with one; idle states act on it,
 *      │ busy ones finish their step first): stop every container (Killing), read their
 *      │ final states, report phase Failed, reason DeadlineExceeded ──▶ failed (until deleted)
 *      │ DELETE (deletionTimestamp or object gone); busy states finish their step first
 *      ▼
 *   terminating (SIGTERM → terminationGracePeriodSeconds → SIGKILL; remove containers, emptyDir;
 *      a shorter grace period meanwhile restarts the stop with it)
 *      ▼
 *   gone (final)
 *
 * I/O is injected: actors `ensureSandbox`, `syncContainers`, `killContainer`, `terminatePod`,
 * `prober`; actions `reportStatus`, `recordEvents` (see runtime/containers/pod_effects.ts).
 * No NATS subjects: status and events go through the ApiClient held by the node agent.
 */
import { assign, enqueueActions, fromCallback, fromPromise, not, setup, stopChild } from "xstate";
import type { Pod, PodStatus } from "../model/types.ts";
import type { RuntimeEvent, SandboxInfo } from "../model/container_runtime.ts";
import { LABELS } from "../model/container_runtime.ts";
import { type BackoffConfig, type ContainerRecord, DEFAULT_BACKOFF, newRecord } from "./pod_backoff.ts";
import { computePodStatus, gateConditionsChanged } from "./pod_status.ts";
import { containerNames, initStep } from "./pod_init.ts";

/** An Event the pod actor wants recorded against its pod. */
export interface PodEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface PodInput {
  pod: Pod;
  node: string;
  hostIP: string;
  backoff?: BackoffConfig;
  /** Level-based resync period while running (default 10 s). */
  resyncMs?: number;
  /** Delay before retrying after a recoverable runtime failure (default 1 s). */
  retryMs?: number;
  /** Start straight in termination (the pod object is already gone). */
  deleting?: boolean;
}

export interface PodContext {
  pod: Pod;
  node: string;
  hostIP: string;
  backoff: BackoffConfig;
  resyncMs: number;
  retryMs: number;
  sandbox?: SandboxInfo;
  records: ContainerRecord[];
  startTime?: string;
  deleting: boolean;
  graceSeconds: number;
  /** Attempts whose liveness probe failed, to be killed (and restarted per policy). */
  killQueue: string[];
  /** A container died while a step was in flight: sync again before resting. */
  dirty: boolean;
  /** activeDeadlineSeconds has passed: the pod fails (its containers are stopped, never restarted). */
  deadlineExceeded: boolean;
  /**
   * The prober's newest readiness verdict per attempt id. A sync step works on the records as
   * they were when it began; a verdict that arrived meanwhile is newer than the step's copy and
   * is laid over its output (see `withVerdicts`) — otherwise a resync in flight when a server
   * froze put `ready: true` back, and the pod stayed in its Service's endpoints until the
   * prober's next resend.
   */
  verdicts: Record<string, boolean>;
  /** Attempt ids whose startup probe has passed (laid over a step's records as `verdicts` are). */
  startups: Record<string, true>;
  lastError?: string;
  status?: PodStatus;
  /**
   * The service environment variables (`NAME_SERVICE_HOST`, ...) of the services that existed
   * when this actor first created a container; fixed from then on, so every container (and every
   * restart) of the pod sees the same set. Filled in by `syncContainers`.
   */
  serviceEnv?: Record<string, string>;
}

export type PodMachineEvent =
  | { type: "POD_UPDATED"; pod: Pod }
  | { type: "DELETE"; graceSeconds?: number }
  /** Converge now (e.g. the runtime came back after an outage). */
  | { type: "RESYNC" }
  | { type: "RUNTIME_EVENT"; event: RuntimeEvent }
  /** From the deadline timer: the pod has been active longer than its activeDeadlineSeconds. */
  | { type: "DEADLINE_EXCEEDED" }
  | { type: "PROBE_RESULT"; container: string; containerId: string; probe: "startup" | "liveness" | "readiness"; result: "success" | "failure"; message?: string };

/** Inputs and outputs of the injected actors. */
export interface SandboxStepInput { pod: Pod; node: string; hostIP: string; sandbox?: SandboxInfo; records: ContainerRecord[] }
export interface SandboxStepOutput { sandbox: SandboxInfo; records: ContainerRecord[]; events: PodEvent[] }
export interface SyncStepInput {
  pod: Pod;
  node: string;
  hostIP: string;
  sandbox: SandboxInfo;
  records: ContainerRecord[];
  backoff: BackoffConfig;
  /** Service variables already fixed for this pod; absent: the step looks them up before its first create. */
  serviceEnv?: Record<string, string>;
  /** Only read the containers' states (after the pod failed): nothing is started or restarted. */
  observeOnly?: boolean;
}
export interface SyncStepOutput { records: ContainerRecord[]; events: PodEvent[]; serviceEnv?: Record<string, string> }
export interface TerminateInput {
  pod: Pod;
  node: string;
  graceSeconds: number;
  /** Containers whose `Killing` event the actor recorded as the stop began (the stop records the rest's). */
  announced?: string[];
}

/** The app containers the actor knows to be running: a stop announces them at once, as the kubelet's `Killing` events. */
function runningNames(records: ContainerRecord[]): string[] {
  return records.filter((r) => r.state.kind === "running").map((r) => r.name);
}

/** Containers to stop while the pod lives on (a failed liveness probe): each attempt's id and container name. */
export interface KillInput { pod: Pod; podIP?: string; kills: { id: string; name?: string }[]; graceSeconds: number }
export interface KillOutput { ids: string[]; events: PodEvent[] }
/** What the prober is told after every sync: the attempts to probe now. */
export interface ProbeTargets { type: "TARGETS"; podIP: string; pod: Pod; running: { name: string; id: string }[] }

/**
 * The records a sync step returned, with the prober's newest readiness verdicts (and passed
 * startup probes) laid over them: for an attempt that is still running under the same id, the
 * verdict wins over the copy the step started from. Verdicts of attempts no longer among the
 * records are dropped.
 */
export function withVerdicts(
  records: ContainerRecord[],
  verdicts: Record<string, boolean>,
  startups: Record<string, true> = {},
): { records: ContainerRecord[]; verdicts: Record<string, boolean>; startups: Record<string, true> } {
  const kept: Record<string, boolean> = {};
  const started: Record<string, true> = {};
  const out = records.map((r) => {
    if (!r.id) return r;
    let next = r;
    if (r.id in startups) {
      started[r.id] = true;
      if (r.startupPassedId !== r.id) next = { ...next, startupPassedId: r.id };
    }
    if (!(r.id in verdicts)) return next;
    kept[r.id] = verdicts[r.id];
    return r.state.kind === "running" && r.ready !== verdicts[r.id] ? { ...next, ready: verdicts[r.id] } : next;
  });
  return { records: out, verdicts: kept, startups: started };
}

/** Thrown by `syncContainers` when the sandbox is no longer running: the actor recreates it. */
export class SandboxGoneError extends Error {
  constructor(id: string) {
    super(`pod sandbox ${id} is not running`);
    this.name = "SandboxGoneError";
  }
}

const notProvided = (name: string) => () => Promise.reject(new Error(`pod actor: ${name} not provided`));

/**
 * The spec to run after an update: the one the actor runs, with only what Kubernetes lets change
 * in a pod's spec once it exists taken from the update — the container images and
 * activeDeadlineSeconds (set or lowered; the API rejects other changes). Returns `current`
 * itself when neither changed.
 */
export function withSpecUpdate(current: Pod["spec"], updated: Pod["spec"]): Pod["spec"] {
  const deadline = updated.activeDeadlineSeconds;
  const base = deadline !== undefined && deadline !== current.activeDeadlineSeconds ? { ...current, activeDeadlineSeconds: deadline } : current;
  return withImages(base, updated);
}

/** `current` with the container images of `updated` (itself when no image changed). */
function withImages(current: Pod["spec"], updated: Pod["spec"]): Pod["spec"] {
  const changed = current.containers.some((c) => {
    const u = updated.containers.find((x) => x.name === c.name);
    return u !== undefined && u.image !== c.image;
  });
  if (!changed) return current;
  return {
    ...current,
    containers: current.containers.map((c) => {
      const u = updated.containers.find((x) => x.name === c.name);
      return u ? { ...c, image: u.image } : c;
    }),
  };
}

/** The kubelet's status for a pod past its activeDeadlineSeconds (its activeDeadlineHandler). */
export const DEADLINE_FAILURE = { reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" } as const;

/** The longest a timer can wait (2³¹ − 1 ms, about 24.8 days): a later deadline is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When the pod's activeDeadlineSeconds runs out (ms since the epoch), counted from its start. */
export function deadlineAt(pod: Pod, startTime: string | undefined, now: number): number | undefined {
  const secs = pod.spec.activeDeadlineSeconds;
  if (secs === undefined) return undefined;
  const start = startTime ? Date.parse(startTime) : NaN;
  return (Number.isNaN(start) ? now : start) + secs * 1000;
}

function graceOf(pod: Pod, override?: number): number {
  return override ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

/** Earliest back-off expiry among waiting containers, as a delay from now. */
export function nextWakeDelay(records: ContainerRecord[], now: number): number | undefined {
  const until = records.flatMap((r) => [r.backoffUntil, r.recheckAt]).filter((u): u is number => u !== undefined && u > now);
  return until.length ? Math.max(0, Math.min(...until) - now) : undefined;
}

/** Every container finished for good (restart policy says no more restarts). */
export function allFinished(pod: Pod, records: ContainerRecord[], now: number): boolean {
  if (initStep(pod, records).type === "failed") return true; // restartPolicy Never: the pod has failed
  return pod.spec.containers.every((c) => {
    const r = records.find((x) => x.name === c.name);
    return r !== undefined && r.state.kind === "terminated" && (r.backoffUntil === undefined || r.backoffUntil <= now) &&
      nextWakeDelay([r], now) === undefined && !needsStart(pod, r);
  });
}

/**
 * Whether the machine can act on a runtime event at all: every RUNTIME_EVENT handler below
 * (`active`'s, `infraDied`, `appDied`) ignores a "start". The supervisor drops those unsent
 * (two a pod, each a macrostep of the pod's actor otherwise).
 */
export function podActsOn(event: RuntimeEvent): boolean {
  return event.type !== "start";
}

/** True when some container has a startup, liveness or readiness probe (what the prober runs). */
export function hasProbes(pod: Pod): boolean {
  return pod.spec.containers.some((c) => c.startupProbe !== undefined || c.livenessProbe !== undefined || c.readinessProbe !== undefined);
}

function needsStart(pod: Pod, r: ContainerRecord): boolean {
  if (r.state.kind !== "terminated") return true;
  const policy = pod.spec.restartPolicy ?? "Always";
  return policy === "Always" || (policy === "OnFailure" && r.state.terminated.exitCode !== 0);
}

/** What a sync step works on: the pod's state as the actor holds it (`observeOnly`: read, start nothing). */
function syncInput(context: PodContext, observeOnly = false): SyncStepInput {
  return {
    pod: context.pod,
    node: context.node,
    hostIP: context.hostIP,
    sandbox: context.sandbox!,
    records: context.records,
    backoff: context.backoff,
    serviceEnv: context.serviceEnv,
    ...(observeOnly ? { observeOnly } : {}),
  };
}

/** A stop of some attempts while the pod lives on, with the pod's own grace period. */
function killInput(context: PodContext, kills: KillInput["kills"]): KillInput {
  return { pod: context.pod, podIP: context.sandbox?.ip, kills, graceSeconds: context.pod.spec.terminationGracePeriodSeconds ?? 30 };
}

/** A failed step's error as the context keeps it. */
const errorMessage = (error: unknown): string => String((error as Error)?.message ?? error);

export const podMachine = setup({
  types: {} as { context: PodContext; events: PodMachineEvent; input: PodInput },
  actors: {
    ensureSandbox: fromPromise<SandboxStepOutput, SandboxStepInput>(notProvided("ensureSandbox")),
    syncContainers: fromPromise<SyncStepOutput, SyncStepInput>(notProvided("syncContainers")),
    /** Stops the given attempts (each with its preStop hook); resolves with the ids handled. */
    killContainer: fromPromise<KillOutput, KillInput>(notProvided("killContainer")),
    terminatePod: fromPromise<PodEvent[], TerminateInput>(notProvided("terminatePod")),
    prober: fromCallback<ProbeTargets, { pod: Pod }>(() => () => {}),
    /** Sends DEADLINE_EXCEEDED at `at` (ms since the epoch); spawned only for a pod with a deadline. */
    deadline: fromCallback<{ type: "noop" }, { at: number }>(({ input, sendBack }) => {
      let timer: ReturnType<typeof setTimeout>;
      const arm = () => {
        const left = input.at - Date.now();
        timer = left <= 0 ? setTimeout(() => sendBack({ type: "DEADLINE_EXCEEDED" }), 0) : setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      arm();
      return () => clearTimeout(timer);
    }),
  },
  actions: {
    reportStatus: (_, _params: { status: PodStatus; hostPorts: Record<string, number> }) => {},
    recordEvents: (_, _params: { events: PodEvent[] }) => {},
    takeUpdate: assign(({ context, event }) => {
      if (event.type !== "POD_UPDATED") return {};
      const spec = withSpecUpdate(context.pod.spec, event.pod.spec);
      const imagesChanged = withImages(context.pod.spec, event.pod.spec) !== context.pod.spec;
      return {
        pod: { ...event.pod, spec },
        deleting: context.deleting || !!event.pod.metadata.deletionTimestamp,
        // Once deleting, a grace period may only shrink (the kubelet's calculateEffectiveGracePeriod).
        graceSeconds: !event.pod.metadata.deletionTimestamp ? context.graceSeconds
          : context.deleting ? Math.min(context.graceSeconds, graceOf(event.pod)) : graceOf(event.pod),
        // A new image is applied by the next sync; idle states pick `dirty` up at once.
        dirty: context.dirty || imagesChanged,
      };
    }),
    takeDelete: assign(({ context, event }) => {
      if (event.type !== "DELETE") return {};
      const grace = graceOf(context.pod, event.graceSeconds);
      return { deleting: true, graceSeconds: context.deleting ? Math.min(context.graceSeconds, grace) : grace };
    }),
    refreshStatus: assign(({ context }) => ({
      status: computePodStatus({
        pod: context.pod,
        records: context.records,
        podIP: context.sandbox?.ip,
        hostIP: context.hostIP,
        startTime: context.startTime,
        sandboxReady: !!context.sandbox,
        terminating: context.deleting,
        ...(context.deadlineExceeded ? { failure: DEADLINE_FAILURE } : {}),
        previous: context.status,
        now: new Date().toISOString(),
      }),
    })),
    /** (Re)starts the deadline timer of a pod with activeDeadlineSeconds (the spec may lower it later). */
    armDeadline: enqueueActions(({ context, enqueue }) => {
      const at = deadlineAt(context.pod, context.startTime, Date.now());
      if (at === undefined || context.deleting) return;
      enqueue.stopChild("deadline");
      enqueue.spawnChild("deadline", { id: "deadline", input: { at } });
    }),
    /**
     * The children only some pods need, in one action (a pod actor's start is on the hot path): the
     * prober for a pod with probes (probes cannot change: a pod's spec is immutable but for
     * images), the deadline timer for one with activeDeadlineSeconds.
     */
    startChildren: enqueueActions(({ context, enqueue }) => {
      if (hasProbes(context.pod)) enqueue.spawnChild("prober", { id: "prober", input: { pod: context.pod } });
      const at = deadlineAt(context.pod, context.startTime, Date.now());
      if (at !== undefined && !context.deleting) enqueue.spawnChild("deadline", { id: "deadline", input: { at } });
    }),
    tellProber: enqueueActions(({ context, enqueue }) => {
      if (!hasProbes(context.pod)) return;
      const targets: ProbeTargets = {
        type: "TARGETS",
        podIP: context.sandbox?.ip ?? "",
        pod: context.pod,
        running: context.records.filter((r) => r.state.kind === "running" && r.id).map((r) => ({ name: r.name, id: r.id! })),
      };
      enqueue.sendTo("prober", targets);
    }),
  },
  guards: {
    deleting: ({ context }) => context.deleting,
    deadlineExceeded: ({ context }) => context.deadlineExceeded,
    deadlineChanged: ({ context, event }) =>
      event.type === "POD_UPDATED" && event.pod.spec.activeDeadlineSeconds !== undefined && event.pod.spec.activeDeadlineSeconds !== context.pod.spec.activeDeadlineSeconds,
    hasSandbox: ({ context }) => context.sandbox !== undefined,
    /** Not deleting, a status reported already, and a readiness gate's condition differs in the update. */
    gateChanged: ({ context, event }) =>
      event.type === "POD_UPDATED" && !context.deleting && !event.pod.metadata.deletionTimestamp && context.status !== undefined &&
      gateConditionsChanged(event.pod, context.pod.status, event.pod.status),
    /** A delete again with a shorter grace period (`kubectl delete --grace-period=1` on a pod already terminating). */
    graceShortened: ({ context, event }) =>
      event.type === "POD_UPDATED" && !!event.pod.metadata.deletionTimestamp && graceOf(event.pod) < context.graceSeconds,
    allFinished: ({ context }) => allFinished(context.pod, context.records, Date.now()),
    hasKills: ({ context }) => context.killQueue.length > 0,
    dirty: ({ context }) => context.dirty,
    someWaiting: ({ context }) => nextWakeDelay(context.records, Date.now()) !== undefined,
    isSandboxGone: ({ event }) => (event as unknown as { error?: unknown }).error instanceof SandboxGoneError,
    infraDied: ({ context, event }) =>
      event.type === "RUNTIME_EVENT" && event.event.id === context.sandbox?.id && event.event.type !== "start",
    appDied: ({ context, event }) =>
      event.type === "RUNTIME_EVENT" && (event.event.type === "die" || event.event.type === "destroy") &&
      event.event.labels[LABELS.role] !== "infra" && context.records.some((r) => r.id === event.event.id),
    livenessFailed: ({ context, event }) =>
      event.type === "PROBE_RESULT" && (event.probe === "liveness" || event.probe === "startup") && event.result === "failure" &&
      context.records.some((r) => r.id === event.containerId && r.state.kind === "running"),
  },
  delays: {
    resync: ({ context }) => context.resyncMs,
    retry: ({ context }) => context.retryMs,
    backoff: ({ context }) => nextWakeDelay(context.records, Date.now()) ?? context.retryMs,
  },
}).createMachine({
  id: "pod",
  context: ({ input }) => ({
    pod: input.pod,
    node: input.node,
    hostIP: input.hostIP,
    backoff: input.backoff ?? DEFAULT_BACKOFF,
    resyncMs: input.resyncMs ?? 10_000,
    retryMs: input.retryMs ?? 1_000,
    records: containerNames(input.pod).map(newRecord),
    startTime: input.pod.status?.startTime,
    deleting: !!input.deleting || !!input.pod.metadata.deletionTimestamp,
    graceSeconds: graceOf(input.pod),
    status: input.pod.status,
    dirty: false,
    deadlineExceeded: false,
    killQueue: [],
    verdicts: {},
    startups: {},
  }),
  initial: "start",
  on: {
    POD_UPDATED: [
      {
        // A readiness gate's condition changed (set by its controller): Ready is computed again
        // and reported at once, whatever step is in flight.
        guard: "gateChanged",
        actions: ["takeUpdate", "refreshStatus", { type: "reportStatus", params: ({ context }) => ({ status: context.status!, hostPorts: context.sandbox?.hostPorts ?? {} }) }],
      },
      { actions: "takeUpdate" },
    ],
    DELETE: { actions: "takeDelete" },
  },
  states: {
    // A pod already being deleted never gets a sandbox: it goes straight to cleanup.
    start: { always: [{ guard: "deleting", target: "terminating" }, { target: "active" }] },
    active: {
      // Spawned, not invoked, so that the many pods without probes start no actor for it
      // (an actor and its start were a tenth of a pod actor's CPU); stopped on leaving `active`.
      // The deadline timer likewise exists only for a pod with activeDeadlineSeconds.
      entry: [assign({ startTime: ({ context }) => context.startTime ?? new Date().toISOString() }), "startChildren"],
      exit: [stopChild("prober"), stopChild("deadline")],
      on: {
        // Acted on by the idle states (and `decide`); a step in flight finishes first.
        DEADLINE_EXCEEDED: { actions: assign({ deadlineExceeded: true }) },
        POD_UPDATED: { guard: "deadlineChanged", actions: ["takeUpdate", "armDeadline"] },
        // Seen only in busy states (idle states handle runtime events themselves).
        RUNTIME_EVENT: {
          guard: ({ event }) => event.event.type === "die" || event.event.type === "destroy",
          actions: assign({ dirty: true }),
        },
        PROBE_RESULT: [
          {
            // Queued, not acted on here: a busy step must finish before a container is killed;
            // idle states pick the queue up (see `killing`).
            guard: "livenessFailed",
            actions: [
              assign({ killQueue: ({ context, event }) => [...context.killQueue, (event as { containerId: string }).containerId] }),
              {
                type: "recordEvents",
                params: ({ event }) => {
                  const e = event as Extract<PodMachineEvent, { type: "PROBE_RESULT" }>;
                  const which = e.probe === "startup" ? "Startup" : "Liveness";
                  return {
                    events: [
                      { type: "Warning" as const, reason: "Unhealthy", message: `${which} probe failed: ${e.message ?? ""}` },
                      { type: "Normal" as const, reason: "Killing", message: `Container ${e.container} failed ${which.toLowerCase()} probe, will be restarted` },
                    ],
                  };
                },
              },
            ],
          },
          {
            // A passed startup probe: the container counts as started, and (without a readiness
            // probe, which the prober starts only now) as ready.
            guard: ({ context, event }) => event.probe === "startup" && event.result === "success" && context.records.some((r) => r.id === event.containerId && r.state.kind === "running"),
            actions: [
              assign(({ context, event }) => {
                const e = event as Extract<PodMachineEvent, { type: "PROBE_RESULT" }>;
                const readyNow = !context.pod.spec.containers.find((c) => c.name === e.container)?.readinessProbe;
                return {
                  records: context.records.map((r) => (r.id === e.containerId ? { ...r, startupPassedId: e.containerId, ...(readyNow ? { ready: true } : {}) } : r)),
                  startups: { ...context.startups, [e.containerId]: true as const },
                  verdicts: readyNow ? { ...context.verdicts, [e.containerId]: true } : context.verdicts,
                };
              }),
              "refreshStatus",
              { type: "reportStatus", params: ({ context }) => ({ status: context.status!, hostPorts: context.sandbox?.hostPorts ?? {} }) },
            ],
          },
          {
            guard: ({ event }) => event.probe === "readiness",
          actions: [
            assign(({ context, event }) => {
              const e = event as Extract<PodMachineEvent, { type: "PROBE_RESULT" }>;
              const ready = e.result === "success";
              return {
                records: context.records.map((r) => (r.id === e.containerId ? { ...r, ready } : r)),
                verdicts: { ...context.verdicts, [e.containerId]: ready },
              };
            }),
            {
              type: "recordEvents",
              params: ({ event }) => ({
                events: event.type === "PROBE_RESULT" && event.result === "failure"
                  ? [{ type: "Warning" as const, reason: "Unhealthy", message: `Readiness probe failed: ${event.message ?? ""}` }]
                  : [],
              }),
            },
            "refreshStatus",
            { type: "reportStatus", params: ({ context }) => ({ status: context.status!, hostPorts: context.sandbox?.hostPorts ?? {} }) },
          ],
          },
        ],
      },
      initial: "sandbox",
      states: {
        sandbox: {
          invoke: {
            src: "ensureSandbox",
            input: ({ context }) => ({ pod: context.pod, node: context.node, hostIP: context.hostIP, sandbox: context.sandbox, records: context.records }),
            onDone: [
              {
                target: "toSync",
                actions: [
                  assign(({ context, event }) => ({ sandbox: event.output.sandbox, ...withVerdicts(event.output.records, context.verdicts, context.startups), lastError: undefined })),
                  { type: "recordEvents", params: ({ event }) => ({ events: event.output.events }) },
                ],
              },
            ],
            onError: {
              target: "sandboxRetry",
              actions: assign({ lastError: ({ event }) => errorMessage(event.error) }),
            },
          },
        },
        // Between a step and the sync it leads to: a deadline that passed meanwhile starts nothing more.
        toSync: {
          always: [{ guard: "deadlineExceeded", target: "#pod.deadline" }, { target: "containers" }],
        },
        sandboxRetry: {
          always: [{ guard: "deleting", target: "#pod.terminating" }, { guard: "deadlineExceeded", target: "#pod.deadline" }],
          on: { RESYNC: "sandbox" },
          after: { retry: "sandbox" },
        },
        containers: {
          entry: assign({ dirty: false }),
          invoke: {
            src: "syncContainers",
            input: ({ context }) => syncInput(context),
            onDone: {
              target: "decide",
              actions: [
                assign(({ context, event }) => ({ ...withVerdicts(event.output.records, context.verdicts, context.startups), lastError: undefined, serviceEnv: context.serviceEnv ?? event.output.serviceEnv })),
                { type: "recordEvents", params: ({ event }) => ({ events: event.output.events }) },
                "refreshStatus",
                { type: "reportStatus", params: ({ context }) => ({ status: context.status!, hostPorts: context.sandbox?.hostPorts ?? {} }) },
                "tellProber",
              ],
            },
            onError: [
              { guard: "isSandboxGone", target: "sandbox" },
              { target: "containersRetry", actions: assign({ lastError: ({ event }) => errorMessage(event.error) }) },
            ],
          },
        },
        containersRetry: {
          always: [{ guard: "deleting", target: "#pod.terminating" }, { guard: "deadlineExceeded", target: "#pod.deadline" }],
          on: { RESYNC: "containers" },
          after: { retry: "containers" },
        },
        decide: {
          always: [
            { guard: "deleting", target: "#pod.terminating" },
            { guard: "deadlineExceeded", target: "#pod.deadline" },
            { guard: "dirty", target: "containers" },
            { guard: "allFinished", target: "completed" },
            { guard: "someWaiting", target: "restarting" },
            { target: "running" },
          ],
        },
        running: {
          on: {
            DELETE: { target: "#pod.terminating", actions: "takeDelete" },
            RUNTIME_EVENT: [{ guard: "infraDied", target: "sandbox" }, { guard: "appDied", target: "containers" }],
            RESYNC: "containers",
          },
          always: [{ guard: "deleting", target: "#pod.terminating" }, { guard: "deadlineExceeded", target: "#pod.deadline" }, { guard: "hasKills", target: "killing" }, { guard: "dirty", target: "containers" }],
          after: { resync: "containers" },
        },
        restarting: {
          on: {
            DELETE: { target: "#pod.terminating", actions: "takeDelete" },
            RUNTIME_EVENT: [{ guard: "infraDied", target: "sandbox" }, { guard: "appDied", target: "containers" }],
            RESYNC: "containers",
          },
          always: [{ guard: "deleting", target: "#pod.terminating" }, { guard: "deadlineExceeded", target: "#pod.deadline" }, { guard: "hasKills", target: "killing" }, { guard: "dirty", target: "containers" }],
          after: { backoff: "containers" },
        },
        killing: {
          invoke: {
            src: "killContainer",
            input: ({ context }) => killInput(context, context.killQueue.map((id) => ({ id, name: context.records.find((r) => r.id === id)?.name }))),
            onDone: {
              target: "toSync",
              actions: [
                assign({ killQueue: ({ context, event }) => context.killQueue.filter((id) => !event.output.ids.includes(id)) }),
                { type: "recordEvents", params: ({ event }) => ({ events: event.output.events }) },
              ],
            },
            onError: "containersRetry",
          },
        },
        completed: {
          // Finished before its deadline: a Succeeded (or Failed) pod stays as it ended.
          on: { DELETE: { target: "#pod.terminating", actions: "takeDelete" }, DEADLINE_EXCEEDED: {} },
          always: { guard: "deleting", target: "#pod.terminating" },
        },
      },
    },
    deadline: {
      // The kubelet's activeDeadlineHandler: every container stopped with the pod's grace period,
      // none restarted, the pod Failed (DeadlineExceeded). Its containers are kept until it is deleted.
      entry: [
        {
          type: "recordEvents",
          params: ({ context }) => ({
            events: [
              { type: "Normal" as const, reason: DEADLINE_FAILURE.reason, message: DEADLINE_FAILURE.message },
              ...runningNames(context.records).map((name) => ({ type: "Normal" as const, reason: "Killing", message: `Stopping container ${name}` })),
            ],
          }),
        },
      ],
      initial: "stopping",
      states: {
        stopping: {
          invoke: {
            src: "killContainer",
            input: ({ context }) => killInput(context, context.records.filter((r) => r.state.kind === "running" && r.id).map((r) => ({ id: r.id!, name: r.name }))),
            onDone: [
              { guard: "deleting", target: "#pod.terminating", actions: { type: "recordEvents", params: ({ event }) => ({ events: event.output.events }) } },
              { target: "observing", actions: { type: "recordEvents", params: ({ event }) => ({ events: event.output.events }) } },
            ],
            onError: { target: "retry", actions: assign({ lastError: ({ event }) => errorMessage(event.error) }) },
          },
        },
        observing: {
          // Without a sandbox no container ever ran: the records say so already.
          always: { guard: not("hasSandbox"), target: "#pod.failed" },
          invoke: {
            src: "syncContainers",
            input: ({ context }) => syncInput(context, true),
            onDone: { target: "#pod.failed", actions: assign({ records: ({ event }) => event.output.records, lastError: undefined }) },
            // The sandbox is gone (or the engine does not answer): the states known are reported.
            onError: { target: "#pod.failed", actions: assign({ lastError: ({ event }) => errorMessage(event.error) }) },
          },
        },
        retry: {
          always: { guard: "deleting", target: "#pod.terminating" },
          after: { retry: "stopping" },
        },
      },
    },
    failed: {
      entry: [
        assign({ records: ({ context }) => context.records.map((r) => ({ ...r, ready: false })) }),
        "refreshStatus",
        { type: "reportStatus", params: ({ context }) => ({ status: context.status!, hostPorts: context.sandbox?.hostPorts ?? {} }) },
      ],
      always: { guard: "deleting", target: "terminating" },
    },
    terminating: {
      entry: [
        "refreshStatus",
        { type: "reportStatus", params: ({ context }) => ({ status: context.status!, hostPorts: context.sandbox?.hostPorts ?? {} }) },
        // Recorded as the stop begins, not when it ends (a pod's grace period can be long).
        { type: "recordEvents", params: ({ context }) => ({ events: runningNames(context.records).map((name) => ({ type: "Normal" as const, reason: "Killing", message: `Stopping container ${name}` })) }) },
      ],
      // A shorter grace period while stopping: the stop in flight is cancelled (its effect is
      // aborted) and started again with the new one, as the kubelet's pod workers do.
      on: { POD_UPDATED: { guard: "graceShortened", target: ".stopping", actions: "takeUpdate" } },
      initial: "stopping",
      states: {
        stopping: {
          invoke: {
            src: "terminatePod",
            input: ({ context }) => ({ pod: context.pod, node: context.node, graceSeconds: context.graceSeconds, announced: runningNames(context.records) }),
            onDone: { target: "#pod.gone", actions: { type: "recordEvents", params: ({ event }) => ({ events: event.output }) } },
            onError: { target: "#pod.terminateRetry", actions: assign({ lastError: ({ event }) => errorMessage(event.error) }) },
          },
        },
      },
    },
    terminateRetry: { after: { retry: "terminating" } },
    gone: { type: "final" },
  },
});

export type PodMachine = typeof podMachine;
