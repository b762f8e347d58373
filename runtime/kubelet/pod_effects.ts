/**
 * The pod actor's side effects on a `ContainerRuntime`: the implementations provided to
 * `podMachine` (actors/pod.ts) by the node agent. Each step is level-based — it lists or inspects
 * what exists, folds that into the records with the pure helpers, then acts — and idempotent,
 * so a step interrupted by an agent restart or an engine outage is simply run again.
 */
import { fromPromise } from "xstate";
import type { Container, Pod, RestartPolicy, Service } from "../../model/types.ts";
import type {
  KillInput,
  KillOutput,
  PodEvent,
  SandboxStepInput,
  SandboxStepOutput,
  SyncStepInput,
  SyncStepOutput,
  TerminateInput,
} from "../../actors/pod.ts";
import { SandboxGoneError } from "../../actors/pod.ts";
import { type ContainerRecord, newRecord, planContainer, recordAfterAttempt, terminatedFrom } from "../../actors/pod_backoff.ts";
import { initRestartPolicy } from "../../actors/pod_init.ts";
import { configRetryMs, recordAfterConfigError } from "../../actors/pod_container_config.ts";
import { allContainers } from "../../model/pod_references.ts";
import { type ContainerConfig, hookFailedEvent, runHook } from "./container_config.ts";
import { containerSpec, emptyDirPlans, podRef, sandboxSpec, volumePlans } from "./pod_spec.ts";
import type { ClaimMounts, ClaimPrepare } from "./claim_volumes.ts";
import { podClaimNames } from "../../actors/volume_claims_decide.ts";
import { MASTER_SERVICE_NAMESPACE, podServiceEnvVars } from "./service_env.ts";
import {
  ContainerNotFoundError,
  type ContainerRuntime,
  ContainerConfigError,
  ContainerStartError,
  LABELS,
  type MountSpec,
  podLabels,
} from "../../model/container_runtime.ts";
import { type ImageCredentialProvider, imageIdOf, ImagePuller } from "./image_puller.ts";
import { proberLogic } from "./probes.ts";
import { containerSecurity, needsImageUser } from "./security_context.ts";

export interface PodEffectsOptions {
  node: string;
  /** The cluster id (the runtime view adds the labels). */
  cluster?: string;
  /**
   * The node's PersistentVolumeClaims (claim_volumes.ts): checked before a container of a pod
   * that names any is made; one not ready is the kubelet's FailedMount, and the container waits
   * ContainerCreating. Absent: such pods wait, with that said.
   */
  claims?: ClaimMounts;
  dns?: { servers: string[]; search: string[] };
  /**
   * The services of a namespace, for the service environment variables of pods (Kubernetes'
   * `NAME_SERVICE_HOST`, ...): asked for `default` (the master service) and the pod's namespace.
   * Absent: pods get no service variables. A failure fails the step (retried), as the kubelet
   * refuses to start a container whose service env it cannot compute.
   */
  services?: (namespace: string) => Promise<Service[]>;
  /**
   * ConfigMap/Secret/downward API volumes and env, lifecycle hooks' helpers (container_config.ts).
   * Absent: such references are ignored (the hollow runtime's scale tests).
   */
  config?: ContainerConfig;
  /** The node's image puller (one per node: it deduplicates pulls). `podEffects` makes one when absent. */
  images?: ImagePuller;
  /** Registry credentials for a pod's pulls (used when `podEffects` makes the puller). Default: none. */
  imageCredentials?: ImageCredentialProvider;
}

const byRestartCount = (a: { labels: Record<string, string> }, b: { labels: Record<string, string> }) =>
  Number(b.labels[LABELS.restartCount] ?? 0) - Number(a.labels[LABELS.restartCount] ?? 0);

/** Ensures the sandbox runs (adopting a running one), its volumes exist, and adopts app containers. */
export async function ensureSandbox(rt: ContainerRuntime, opts: PodEffectsOptions, input: SandboxStepInput): Promise<SandboxStepOutput> {
  const { pod, node } = input;
  const ref = podRef(pod, node);
  const events: PodEvent[] = [];
  const existing = await rt.listContainers({ [LABELS.node]: node, [LABELS.podUid]: ref.uid });
  const infras = existing.filter((c) => c.labels[LABELS.role] === "infra");
  const apps = existing.filter((c) => c.labels[LABELS.role] !== "infra");
  let sandboxId = infras.find((c) => c.state === "running" && (!input.sandbox || c.id === input.sandbox.id))?.id ??
    infras.find((c) => c.state === "running")?.id;
  let records = input.records;
  if (sandboxId) {
    for (const c of infras) if (c.id !== sandboxId) await rt.removeContainer(c.id);
  } else {
    // No live sandbox: everything left of the pod sits in a dead network namespace. "Had one"
    // also counts the actor's memory: an earlier try may already have removed the dead
    // containers before failing (e.g. the engine was shutting down), losing this event with it.
    if (existing.length > 0 || input.sandbox || records.some((r) => r.started)) {
      events.push({ type: "Normal", reason: "SandboxChanged", message: "Pod sandbox changed, it will be killed and re-created." });
    }
    for (const c of infras) await rt.removeContainer(c.id);
    for (const c of apps) await rt.removeContainer(c.id);
    // Claim volumes are made per container, once their claims are checked (startAttempt).
    for (const v of emptyDirPlans(pod, node)) await rt.createVolume(v.source, v.labels, ref);
    const created = await rt.createSandbox(sandboxSpec(pod, node, input.hostIP, opts.dns));
    sandboxId = created.id;
    return { sandbox: created, records, events };
  }
  // Adopt: the newest attempt of each container in this sandbox becomes the record's attempt.
  records = records.map((r) => {
    if (r.id) return r;
    const mine = apps.filter((c) => c.labels[LABELS.container] === r.name).sort(byRestartCount);
    const newest = mine[0];
    if (!newest) return r;
    return { ...r, id: newest.id, restartCount: Number(newest.labels[LABELS.restartCount] ?? 0), started: true, sandboxId };
  });
  const keep = new Set(records.map((r) => r.id));
  for (const c of apps) if (!keep.has(c.id)) await rt.removeContainer(c.id);
  return { sandbox: await rt.inspectSandbox(sandboxId), records, events };
}

/** One level-based pass over the pod's containers: observe, plan (pure), act. */
export async function syncContainers(rt: ContainerRuntime, opts: PodEffectsOptions, input: SyncStepInput): Promise<SyncStepOutput> {
  const { pod, sandbox } = input;
  const sb = await rt.inspectSandbox(sandbox.id).catch((e) => {
    if (e instanceof ContainerNotFoundError) throw new SandboxGoneError(sandbox.id);
    throw e;
  });
  if (!sb.running) throw new SandboxGoneError(sandbox.id);
  const events: PodEvent[] = [];
  // Looked up once, before the first container is created, then fixed for the pod (see PodContext).
  let fetched: Promise<Record<string, string>> | undefined;
  const serviceEnv = (): Promise<Record<string, string>> =>
    input.serviceEnv ? Promise.resolve(input.serviceEnv) : (fetched ??= lookUpServiceEnv(opts, pod));
  // The pod's claims, checked once per sync (its containers share the answer, and one
  // FailedMount is said for them all). A pod that has run keeps a claim being deleted.
  let mounting: Promise<ClaimPrepare> | undefined;
  const claims = (): Promise<ClaimPrepare> =>
    (mounting ??= (opts.claims
      ? opts.claims.prepare(pod, !input.records.some((r) => r.started || r.restartCount > 0))
      : Promise.resolve<ClaimPrepare>({ type: "error", message: "this node serves no PersistentVolumeClaims" })
    ).then((r) => {
      if (r.type === "error") events.push({ type: "Warning", reason: "FailedMount", message: r.message });
      return r;
    }));
  const syncOne = async (c: Container, policy: RestartPolicy | undefined): Promise<ContainerRecord> => {
      const rec0 = input.records.find((r) => r.name === c.name) ?? newRecord(c.name);
      const observed = rec0.id
        ? await rt.inspectContainer(rec0.id).catch((e) => {
          if (e instanceof ContainerNotFoundError) return "missing" as const;
          throw e;
        })
        : undefined;
      const now = Date.now();
      if (input.observeOnly) {
        // Read the attempt's state as it is: what exited stays exited, nothing is started.
        const { record, action } = planContainer(rec0, observed, { policy: "Never", sandboxId: sandbox.id, now, backoff: input.backoff });
        return action.type === "none" ? { ...record, ready: false } : rec0;
      }
      const { record, action } = planContainer(rec0, observed, { policy, sandboxId: sandbox.id, now, backoff: input.backoff, image: c.image });
      if (action.type === "wait") {
        if (record.state.kind === "waiting" && record.state.reason === "CrashLoopBackOff" && rec0.backoffUntil !== record.backoffUntil) {
          events.push({ type: "Warning", reason: "BackOff", message: `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace ?? "default"}(${pod.metadata.uid ?? ""})` });
        }
        if (record.state.kind === "waiting" && record.state.reason === "ImagePullBackOff" && !(rec0.state.kind === "waiting" && rec0.state.reason === "ImagePullBackOff")) {
          events.push({ type: "Normal", reason: "BackOff", message: `Back-off pulling image "${c.image}"` });
          events.push({ type: "Warning", reason: "Failed", message: "Error: ImagePullBackOff" });
        }
        return record;
      }
      if (action.type === "none") {
        // Ready comes from the prober for a container with a readiness or a startup probe.
        const ready = c.readinessProbe || c.startupProbe ? record.ready : record.state.kind === "running";
        // An adopted attempt (agent restart) has no imageID yet: the engine knows its image.
        const imageID = record.imageID ?? (observed && observed !== "missing" && observed.imageId ? await imageIdFor(rt, observed.image, observed.imageId) : undefined);
        return { ...record, ready, ...(imageID ? { imageID } : {}) };
      }
      if (action.type === "replace") {
        events.push({ type: "Normal", reason: "Killing", message: `Container ${c.name} definition changed, will be restarted` });
        // The hook of the container being replaced (the running one's spec is the old one, but
        // the kubelet, too, runs the hook of the spec it has now).
        await stopGracefully(rt, pod, c, action.id, pod.spec.terminationGracePeriodSeconds ?? 30, () => Promise.resolve(input.sandbox.ip), events);
        const stopped = await rt.inspectContainer(action.id).catch(() => undefined);
        await rt.removeContainer(action.id);
        const lastTerminated = stopped ? terminatedFrom(stopped) : { exitCode: 137, reason: "Error", message: "container definition changed" };
        return await startAttempt(rt, opts, input, c.name, { ...record, id: undefined, lastTerminated }, events, serviceEnv, claims);
      }
      if (action.removeId) await rt.removeContainer(action.removeId);
      return await startAttempt(rt, opts, input, c.name, { ...record, id: action.removeId ? undefined : record.id }, events, serviceEnv, claims);
  };
  // Init containers one at a time, in order, each to exit 0; then the app containers together.
  const initRecords: ContainerRecord[] = [];
  let initialized = true;
  for (const c of input.pod.spec.initContainers ?? []) {
    const rec = initialized ? await syncOne(c, initRestartPolicy(pod)) : input.records.find((r) => r.name === c.name) ?? newRecord(c.name);
    initRecords.push(rec);
    if (!(rec.state.kind === "terminated" && rec.state.terminated.exitCode === 0)) initialized = false;
  }
  const appRecords = initialized
    ? await Promise.all(pod.spec.containers.map((c) => syncOne(c, pod.spec.restartPolicy)))
    : pod.spec.containers.map((c) => input.records.find((r) => r.name === c.name) ?? newRecord(c.name));
  const records = [...initRecords, ...appRecords];
  return { records, events, ...(fetched ? { serviceEnv: await fetched } : {}) };
}

async function imageIdFor(rt: ContainerRuntime, image: string, id: string): Promise<string | undefined> {
  const info = await rt.inspectImage(id);
  return info ? imageIdOf(rt.kind, image, info) : undefined;
}

/**
 * The pod's service variables: the master service's (`kubernetes` in `default`, the API's
 * address for in-cluster clients) always, as the kubelet adds them even with
 * `enableServiceLinks: false`; its namespace's services' unless that is false.
 */
async function lookUpServiceEnv(opts: PodEffectsOptions, pod: Pod): Promise<Record<string, string>> {
  if (!opts.services) return {};
  const namespace = pod.metadata.namespace ?? "default";
  const links = pod.spec.enableServiceLinks !== false;
  const lists = await Promise.all([
    opts.services(MASTER_SERVICE_NAMESPACE),
    links && namespace !== MASTER_SERVICE_NAMESPACE ? opts.services(namespace) : Promise.resolve([]),
  ]);
  const vars = podServiceEnvVars(lists.flat(), namespace, links);
  return Object.fromEntries(vars.map((v) => [v.name, v.value ?? ""]));
}

async function startAttempt(
  rt: ContainerRuntime,
  opts: PodEffectsOptions,
  input: SyncStepInput,
  name: string,
  rec: ContainerRecord,
  events: PodEvent[],
  serviceEnv: () => Promise<Record<string, string>>,
  claims: () => Promise<ClaimPrepare>,
): Promise<ContainerRecord> {
  const c = allContainers(input.pod).find((x) => x.name === name)!;
  // Volumes before the image, as the kubelet mounts them before it pulls.
  let claimUid: ((claim: string) => string | undefined) | undefined;
  if (podClaimNames(input.pod).length > 0) {
    const ready = await claims();
    if (ready.type === "error") return recordAfterConfigError(rec, "ContainerCreating", ready.message, Date.now(), configRetryMs(input.backoff.baseMs));
    claimUid = (claim) => ready.uids[claim];
    for (const v of volumePlans(input.pod, opts.node, opts.cluster, undefined, claimUid)) {
      if (v.kind === "persistent") await rt.createVolume(v.source, v.labels, podRef(input.pod, opts.node, opts.cluster));
    }
  }
  let imageID: string | undefined;
  const ctx = () => ({ image: c.image, sandboxId: input.sandbox.id, now: Date.now(), backoff: input.backoff, hasReadinessProbe: !!c.readinessProbe || !!c.startupProbe, imageID });
  const image = await (opts.images ?? new ImagePuller(rt)).ensure(input.pod, c);
  // ErrImageNeverPull is said once; pull attempts are each recorded (the recorder counts repeats).
  const repeat = image.type === "neverPull" && rec.state.kind === "waiting" && rec.state.reason === "ErrImageNeverPull";
  if (!repeat) events.push(...image.events);
  if (image.type === "neverPull") return recordAfterAttempt(rec, { type: "imageMissing", message: image.message }, ctx());
  if (image.type === "failed") return recordAfterAttempt(rec, { type: "pullFailed", message: image.message }, ctx());
  imageID = image.imageID || undefined;
  const fields = { podIP: input.sandbox.ip, hostIP: input.hostIP, nodeName: opts.node };
  let env: Record<string, string> | undefined;
  let nodeMounts: MountSpec[] = [];
  if (opts.config) {
    const prep = await opts.config.prepare(input.pod, c, fields, await serviceEnv());
    if (prep.type === "error") {
      events.push(prep.event);
      return recordAfterConfigError(rec, prep.reason, prep.message, Date.now(), configRetryMs(input.backoff.baseMs));
    }
    env = prep.env;
    nodeMounts = prep.mounts;
  }
  // securityContext: runAsNonRoot is checked against the image's user before the container is made.
  const imageUser = needsImageUser(input.pod, c) ? (await rt.inspectImage(c.image))?.user : undefined;
  const security = containerSecurity(input.pod, c, imageUser);
  if (security.type === "error") {
    events.push({ type: "Warning", reason: "Failed", message: `Error: ${security.message}` });
    return recordAfterConfigError(rec, "CreateContainerConfigError", security.message, Date.now(), configRetryMs(input.backoff.baseMs));
  }
  const config = opts.config;
  const spec = containerSpec(input.pod, c, {
    node: opts.node,
    cluster: opts.cluster,
    sandboxId: input.sandbox.id,
    restartCount: rec.restartCount,
    fields,
    serviceEnv: await serviceEnv(),
    env,
    projectedDir: config ? (v) => config.volumeDir(input.pod, v) : undefined,
    claimUid,
  });
  if (nodeMounts.length) spec.mounts = [...(spec.mounts ?? []), ...nodeMounts];
  if (Object.keys(security.security).length) spec.security = security.security;
  // The termination message file, on an engine whose containers mount node files (not hollow).
  if (config && rt.kind !== "hollow") {
    const hostPath = await config.terminationLog(input.pod, c, rec.restartCount);
    if (hostPath) spec.terminationMessage = { hostPath, path: c.terminationMessagePath || "/dev/termination-log", policy: c.terminationMessagePolicy ?? "File" };
  }
  let id: string;
  try {
    id = await rt.createContainer(spec);
  } catch (e) {
    if (!(e instanceof ContainerConfigError)) throw e;
    // What the runtime could not prepare (a subPath out of its volume): the kubelet's config error.
    events.push({ type: "Warning", reason: "Failed", message: `Error: ${e.message}` });
    return recordAfterConfigError(rec, "CreateContainerConfigError", e.message, Date.now(), configRetryMs(input.backoff.baseMs));
  }
  events.push({ type: "Normal", reason: "Created", message: `Created container ${c.name}` });
  try {
    await rt.startContainer(id);
  } catch (e) {
    if (!(e instanceof ContainerStartError)) throw e;
    events.push({ type: "Warning", reason: "Failed", message: `Error: failed to start container "${c.name}": ${e.message}` });
    return recordAfterAttempt(rec, { type: "startFailed", id, exitCode: e.exitCode, message: e.message }, ctx());
  }
  events.push({ type: "Normal", reason: "Started", message: `Started container ${c.name}` });
  if (c.lifecycle?.postStart) {
    // As the kubelet: the hook runs before the container counts as started; a failure kills it.
    const grace = input.pod.spec.terminationGracePeriodSeconds ?? 30;
    const failed = await runHook(rt, id, c, c.lifecycle.postStart, input.sandbox.ip, Math.max(grace, 1) * 1000);
    if (failed) {
      events.push(hookFailedEvent("postStart", input.pod, c, c.lifecycle.postStart, failed));
      events.push({ type: "Normal", reason: "Killing", message: `Container ${c.name} failed post-start hook, will be restarted` });
      await rt.stopContainer(id, grace);
    }
  }
  return recordAfterAttempt(rec, { type: "started", id }, ctx());
}

/**
 * Stops one running container as the kubelet's killContainer does: its `preStop` hook first,
 * within the grace period (a failure is a FailedPreStopHook event, and stopping goes on), then
 * SIGTERM with what is left of the period (at least 2 s), then SIGKILL at the deadline. For a
 * pod's deletion, a failed liveness probe and a changed container alike.
 */
async function stopGracefully(rt: ContainerRuntime, pod: Pod, spec: Container | undefined, id: string, graceSeconds: number, podIP: () => Promise<string>, events: PodEvent[]): Promise<void> {
  const deadline = Date.now() + graceSeconds * 1000;
  const preStop = spec?.lifecycle?.preStop;
  if (spec && preStop && graceSeconds > 0) {
    const failed = await runHook(rt, id, spec, preStop, await podIP(), graceSeconds * 1000);
    if (failed) events.push(hookFailedEvent("preStop", pod, spec, preStop, failed));
  }
  const left = graceSeconds > 0 ? Math.max(2, Math.ceil((deadline - Date.now()) / 1000)) : 0;
  await rt.stopContainer(id, left);
}

/**
 * Stops every container of the pod (SIGTERM, grace, SIGKILL), removes them and the emptyDir volumes.
 * Once `superseded()` says so (the pod's actor started the stop again with a shorter grace
 * period), it removes nothing more: the stop that replaced it does, and two would race each other.
 * (Not the actor's abort signal: that also fires when the node agent stops its actors, and a stop
 * under way must then still finish — `settle()` waits for it.)
 */
export async function terminatePod(rt: ContainerRuntime, input: TerminateInput, opts?: PodEffectsOptions, superseded: () => boolean = () => false): Promise<PodEvent[]> {
  const ref = podRef(input.pod, input.node);
  const events: PodEvent[] = [];
  const all = await rt.listContainers({ [LABELS.node]: input.node, [LABELS.podUid]: ref.uid });
  const apps = all.filter((c) => c.labels[LABELS.role] !== "infra");
  const infra = all.find((c) => c.labels[LABELS.role] === "infra" && c.state === "running");
  let ip: Promise<string> | undefined;
  const podIP = () => (ip ??= infra ? rt.inspectSandbox(infra.id).then((s) => s.ip, () => "") : Promise.resolve(""));
  await Promise.all(apps.map(async (c) => {
    if (c.state === "running") {
      const spec = allContainers(input.pod).find((x) => x.name === c.labels[LABELS.container]);
      const name = c.labels[LABELS.container];
      if (!input.announced?.includes(name)) events.push({ type: "Normal", reason: "Killing", message: `Stopping container ${name}` });
      await stopGracefully(rt, input.pod, spec, c.id, input.graceSeconds, podIP, events);
    }
    if (!superseded()) await rt.removeContainer(c.id);
  }));
  if (superseded()) return events;
  for (const c of all.filter((c) => c.labels[LABELS.role] === "infra")) {
    await rt.stopContainer(c.id, Math.min(input.graceSeconds, 2));
    if (superseded()) return events;
    await rt.removeContainer(c.id);
  }
  if (superseded()) return events;
  const vols = await rt.listVolumes({ ...podLabels(ref), [LABELS.volumeKind]: "emptyDir" });
  for (const v of vols) await rt.removeVolume(v.name);
  await opts?.config?.cleanup(ref.uid);
  return events;
}

/**
 * Everything `podMachine.provide()` needs, bound to one runtime and node. `settle()` resolves
 * once every step in flight has finished, so a stopping agent leaves no half-made work behind
 * (a stopped actor ignores its step's result, but the step itself runs to its end).
 */
export function podEffects(rt: ContainerRuntime, options: PodEffectsOptions) {
  const opts: PodEffectsOptions = { ...options, images: options.images ?? new ImagePuller(rt, { credentials: options.imageCredentials }) };
  const inflight = new Set<Promise<unknown>>();
  /** Pod uid → the number of its latest stop (terminatePod) begun, from one counter. */
  const stopsBegun = new Map<string, number>();
  let stopSeq = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  };
  return {
    actors: {
      ensureSandbox: fromPromise<SandboxStepOutput, SandboxStepInput>(({ input }) => track(ensureSandbox(rt, opts, input))),
      syncContainers: fromPromise<SyncStepOutput, SyncStepInput>(({ input }) => track(syncContainers(rt, opts, input))),
      killContainer: fromPromise<KillOutput, KillInput>(({ input }) =>
        track((async () => {
          const events: PodEvent[] = [];
          const podIP = () => Promise.resolve(input.podIP ?? "");
          await Promise.all(input.kills.map(({ id, name }) =>
            stopGracefully(rt, input.pod, allContainers(input.pod).find((x) => x.name === name), id, input.graceSeconds, podIP, events)
          ));
          return { ids: input.kills.map((k) => k.id), events };
        })())
      ),
      terminatePod: fromPromise<PodEvent[], TerminateInput>(({ input }) => {
        // Each stop of a pod gets a number; an older one gives way once a newer one has begun.
        const uid = input.pod.metadata.uid ?? `${input.pod.metadata.namespace}/${input.pod.metadata.name}`;
        const mine = ++stopSeq;
        stopsBegun.set(uid, mine);
        const done = track(terminatePod(rt, input, opts, () => stopsBegun.get(uid) !== mine));
        const forget = () => {
          if (stopsBegun.get(uid) === mine) stopsBegun.delete(uid);
        };
        done.then(forget, forget);
        return done;
      }),
      prober: proberLogic(rt, opts.node),
    },
    async settle(): Promise<void> {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
  };
}

/** The pod of a container, from its labels. */
export function podKeyOf(labels: Record<string, string>): string | undefined {
  return labels[LABELS.podUid];
}

export type { Pod };
