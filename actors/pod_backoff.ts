/**
 * Pure restart decisions for one container: given what the pod actor remembers about it and
 * what the runtime reports now, what should happen (nothing, start now, wait for back-off, or
 * leave it finished)? Kubernetes' rules: `restartPolicy` Always / OnFailure / Never; the first
 * restart is immediate, then back-off doubles from 10 s up to 5 min (CrashLoopBackOff), and
 * resets once a container has run for twice the maximum.
 */
import type { ContainerStateTerminated, RestartPolicy } from "../model/types.ts";
import type { ContainerInfo } from "../model/container_runtime.ts";

export interface BackoffConfig {
  /** First back-off delay (Kubernetes: 10 s). */
  baseMs: number;
  /** Cap (Kubernetes: 5 min). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 10_000, maxMs: 300_000 };

/** What the pod actor remembers about one container of the pod. */
export interface ContainerRecord {
  name: string;
  /** The current runtime container (attempt), if one was created. */
  id?: string;
  /** The sandbox the current attempt joined. */
  sandboxId?: string;
  restartCount: number;
  /** Consecutive failed runs, for back-off. */
  crashes: number;
  /** Epoch ms before which the container must not be started again. */
  backoffUntil?: number;
  state:
    | { kind: "waiting"; reason: string; message?: string }
    | { kind: "running"; startedAt?: string }
    | { kind: "terminated"; terminated: ContainerStateTerminated };
  lastTerminated?: ContainerStateTerminated;
  ready: boolean;
  /** Whether this container has ever been started in this pod. */
  started: boolean;
  /** The attempt whose startup probe passed (a container with a startupProbe is started once it is its current `id`). */
  startupPassedId?: string;
  /** The image of the current (or last tried) attempt; differs from the spec after an image update. */
  image?: string;
  /** The image the attempt runs as the runtime names it (`docker-pullable://repo@sha256:...`). */
  imageID?: string;
  /** Consecutive failed pulls, for the image back-off (reset by a successful start). */
  pullFailures?: number;
  /**
   * Epoch ms at which the actor looks again although the back-off runs on: an `ErrImagePull`
   * turns into `ImagePullBackOff` then, as the kubelet's next sync shows it.
   */
  recheckAt?: number;
}

export function newRecord(name: string): ContainerRecord {
  return { name, restartCount: 0, crashes: 0, state: { kind: "waiting", reason: "ContainerCreating" }, ready: false, started: false };
}

/** The delay before restart number `crashes` (1 = first failure → immediate). */
export function backoffDelay(crashes: number, cfg: BackoffConfig): number {
  if (crashes <= 1) return 0;
  return Math.min(cfg.baseMs * 2 ** (crashes - 2), cfg.maxMs);
}

/** The kubelet's image back-off after `failures` failed pulls: 10 s doubling to 5 min (with the defaults). */
export function pullBackoffDelay(failures: number, cfg: BackoffConfig): number {
  return Math.min(cfg.baseMs * 2 ** Math.max(0, failures - 1), cfg.maxMs);
}

export function shouldRestart(policy: RestartPolicy | undefined, exitCode: number): boolean {
  switch (policy ?? "Always") {
    case "Always": return true;
    case "OnFailure": return exitCode !== 0;
    case "Never": return false;
  }
}

/** The terminated state Kubernetes would report for an exited container. */
export function terminatedFrom(info: ContainerInfo): ContainerStateTerminated {
  const reason = info.error && !info.startedAt
    ? "ContainerCannotRun"
    : info.oomKilled
    ? "OOMKilled"
    : info.exitCode === 0
    ? "Completed"
    : "Error";
  return {
    exitCode: info.exitCode,
    reason,
    // The engine's error and the container's own message, joined as the kubelet joins them.
    ...(info.terminationMessage || info.error ? { message: [info.error, info.terminationMessage].filter(Boolean).join(": ") } : {}),
    ...(info.startedAt ? { startedAt: info.startedAt } : {}),
    ...(info.finishedAt ? { finishedAt: info.finishedAt } : {}),
    containerID: `${info.id.length === 64 ? "docker" : "hollow"}://${info.id}`,
  };
}

/** What to do with one container now. */
export type ContainerAction =
  | { type: "none" }
  /** Create and start a new attempt (removing `removeId` first, if given). */
  | { type: "start"; removeId?: string }
  /**
   * The running attempt `id` runs another image than the spec now names: stop it gracefully,
   * then start a new attempt (Kubernetes: "definition changed, will be restarted").
   */
  | { type: "replace"; id: string }
  /** Wait; `until` is when a start becomes allowed. */
  | { type: "wait"; until: number };

/**
 * Folds an observation into the record and decides. `observed`: the runtime's view of
 * `rec.id` (undefined when there is no attempt, "missing" when it vanished).
 */
export function planContainer(
  rec0: ContainerRecord,
  observed: ContainerInfo | "missing" | undefined,
  ctx: {
    policy: RestartPolicy | undefined;
    sandboxId: string;
    now: number;
    backoff: BackoffConfig;
    /** The image the pod spec names now (absent: image changes are not considered). */
    image?: string;
  },
): { record: ContainerRecord; action: ContainerAction } {
  let rec = observed && observed !== "missing" ? { ...rec0, image: observed.image } : rec0;
  // The spec names another image than the last attempt ran (or tried): a new definition, so
  // the back-off of the old one does not apply (Kubernetes keys back-off by container hash).
  const imageChanged = ctx.image !== undefined && rec.image !== undefined && rec.image !== ctx.image;
  if (imageChanged && !(observed && observed !== "missing" && observed.running)) {
    rec = { ...rec, crashes: 0, backoffUntil: undefined };
  }
  // Never created (or creation failed before an id existed): start unless backing off.
  if (!rec.id || observed === undefined) {
    const until = rec.backoffUntil;
    if (until !== undefined && ctx.now < until) {
      // A failed pull is shown as ErrImagePull once, then as ImagePullBackOff until the retry.
      if (rec.state.kind === "waiting" && rec.state.reason === "ErrImagePull") {
        rec = { ...rec, recheckAt: undefined, state: { kind: "waiting", reason: "ImagePullBackOff", message: `Back-off pulling image "${rec.image ?? ctx.image ?? ""}"` } };
      }
      return { record: rec, action: { type: "wait", until } };
    }
    return { record: rec, action: { type: "start" } };
  }
  // Joined to an old sandbox: the pod's network is gone; restart at once, no back-off.
  const joined = observed === "missing" ? rec.sandboxId : observed.sandboxId;
  if (joined && joined !== ctx.sandboxId) {
    const terminated = observed === "missing" || observed.running
      ? { exitCode: 137, reason: "Error", message: "pod sandbox changed" }
      : terminatedFrom(observed);
    return {
      record: { ...rec, lastTerminated: terminated, ready: false, restartCount: rec.restartCount + 1, backoffUntil: undefined },
      action: { type: "start", removeId: rec.id },
    };
  }
  if (observed !== "missing" && observed.running && imageChanged) {
    return {
      record: { ...rec, ready: false, restartCount: rec.restartCount + 1, crashes: 0, backoffUntil: undefined },
      action: { type: "replace", id: rec.id },
    };
  }
  if (observed !== "missing" && observed.running) {
    return { record: { ...rec, state: { kind: "running", startedAt: observed.startedAt }, started: true }, action: { type: "none" } };
  }
  // Exited (or vanished): decide by restart policy.
  const terminated: ContainerStateTerminated = observed === "missing"
    ? (rec.state.kind === "terminated" ? rec.state.terminated : { exitCode: 137, reason: "ContainerStatusUnknown", message: "the container could not be located" })
    : terminatedFrom(observed);
  if (!shouldRestart(ctx.policy, terminated.exitCode)) {
    return { record: { ...rec, state: { kind: "terminated", terminated }, ready: false }, action: { type: "none" } };
  }
  const already = rec.state.kind === "terminated" || rec.state.kind === "waiting";
  let crashes = rec.crashes;
  let backoffUntil = rec.backoffUntil;
  if (!already || backoffUntil === undefined) {
    // First time this exit is seen: count it, reset the count after a long healthy run.
    const ran = terminated.startedAt && terminated.finishedAt ? Date.parse(terminated.finishedAt) - Date.parse(terminated.startedAt) : 0;
    crashes = ran > 2 * ctx.backoff.maxMs ? 1 : rec.crashes + 1;
    const finished = terminated.finishedAt ? Date.parse(terminated.finishedAt) : ctx.now;
    backoffUntil = Math.min(finished, ctx.now) + backoffDelay(crashes, ctx.backoff);
  }
  const record: ContainerRecord = {
    ...rec,
    crashes,
    backoffUntil,
    ready: false,
    state: ctx.now < backoffUntil
      ? { kind: "waiting", reason: "CrashLoopBackOff", message: `back-off ${Math.round(backoffDelay(crashes, ctx.backoff) / 1000)}s restarting failed container=${rec.name}` }
      : { kind: "terminated", terminated },
    lastTerminated: ctx.now < backoffUntil ? terminated : rec.lastTerminated,
  };
  if (ctx.now < backoffUntil) return { record, action: { type: "wait", until: backoffUntil } };
  return {
    record: { ...record, lastTerminated: terminated, restartCount: rec.restartCount + 1 },
    action: { type: "start", removeId: rec.id },
  };
}

/** How one start attempt of a container went (what the kubelet's effects observed). */
export type AttemptOutcome =
  | { type: "imageMissing"; message: string }
  /** The pull failed; `message` is the registry's answer. */
  | { type: "pullFailed"; message: string }
  | { type: "startFailed"; id: string; exitCode: number; message: string }
  | { type: "started"; id: string };

/** What the next record depends on besides the outcome. */
export interface AttemptContext {
  image: string;
  sandboxId: string;
  /** Epoch ms, and the same instant as an ISO string for the container state. */
  now: number;
  backoff: BackoffConfig;
  /** With a readiness probe a started container is not ready until the probe says so. */
  hasReadinessProbe: boolean;
  /** The runtime's name for the image the attempt ran (status `imageID`). */
  imageID?: string;
}

/**
 * The record after one start attempt, pure: a missing image waits (`ErrImageNeverPull`) with
 * back-off counted as a crash; a failed pull waits (`ErrImagePull`, then `ImagePullBackOff`) with
 * the image back-off (its own count, reset by a start); a container that could not start is terminated
 * (`ContainerCannotRun`) so the restart policy and back-off decide what follows; a started one
 * runs, ready at once unless it has a readiness probe.
 */
export function recordAfterAttempt(rec: ContainerRecord, outcome: AttemptOutcome, ctx: AttemptContext): ContainerRecord {
  const at = new Date(ctx.now).toISOString();
  switch (outcome.type) {
    case "imageMissing": {
      const crashes = rec.crashes + 1;
      return {
        ...rec,
        id: undefined,
        image: ctx.image,
        crashes,
        backoffUntil: ctx.now + Math.max(backoffDelay(crashes, ctx.backoff), ctx.backoff.baseMs),
        state: { kind: "waiting", reason: "ErrImageNeverPull", message: outcome.message },
        ready: false,
      };
    }
    case "pullFailed": {
      const pullFailures = (rec.pullFailures ?? 0) + 1;
      const delay = pullBackoffDelay(pullFailures, ctx.backoff);
      return {
        ...rec,
        id: undefined,
        image: ctx.image,
        pullFailures,
        backoffUntil: ctx.now + delay,
        recheckAt: ctx.now + Math.min(1000, delay / 2),
        state: { kind: "waiting", reason: "ErrImagePull", message: outcome.message },
        ready: false,
      };
    }
    case "startFailed":
    case "started": {
      const ran = {
        ...rec,
        id: outcome.id,
        image: ctx.image,
        ...(ctx.imageID ? { imageID: ctx.imageID } : {}),
        sandboxId: ctx.sandboxId,
        backoffUntil: undefined,
        recheckAt: undefined,
        pullFailures: 0,
        started: true,
      };
      return outcome.type === "started"
        ? { ...ran, ready: !ctx.hasReadinessProbe, state: { kind: "running", startedAt: at } }
        : {
          ...ran,
          ready: false,
          state: { kind: "terminated", terminated: { exitCode: outcome.exitCode, reason: "ContainerCannotRun", message: outcome.message, startedAt: at, finishedAt: at, containerID: outcome.id } },
        };
    }
  }
}
