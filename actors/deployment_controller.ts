/**
 * The deployment controller: one work loop per Deployment (owner_loops.ts; a Deployment
 * deleted and made again under its name gets a new one), each pass
 *
 *   read the Deployment + its namespace's ReplicaSets from the shared informers
 *     ──decideDeployment (pure, deployment_decide.ts)──▶ DeploymentCommand[]
 *     ──execute (exhaustive switch below)──▶ ReplicaSet creates/patches/deletes, status, events
 *
 * Woken by changes to the Deployment and to any ReplicaSet it controls (their status carries the
 * pods' readiness), and for a Recreate deployment by its old pods going away (a ReplicaSet's
 * status stops counting a pod once its deletion starts, but Recreate waits until it is gone);
 * the progress deadline brings a pass without a wake-up. The ReplicaSets do the
 * pods (the ReplicaSet manager, controller_manager.ts). Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import type { Deployment, Pod, ReplicaSet } from "../model/types.ts";
import { type DeploymentCommand, decideDeployment, deploymentStatus, REVISION_ANNOTATION, requeueAfterMs, splitReplicaSets, ownedReplicaSets } from "./deployment_decide.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { startOwnerLoops } from "./owner_loops.ts";
import type { WorkLoop } from "./work_loop.ts";

export interface DeploymentControllerDeps {
  client: ApiClient;
  deployments: Informer<"deployments">;
  replicaSets: Informer<"replicasets">;
  /** Pods, for Recreate's wait for the old ones to be gone. Without it, only ReplicaSet status counts. */
  pods?: Informer<"pods">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
}

export interface DeploymentController {
  loop: WorkLoop;
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  stop(): void;
}

const lostRace = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "AlreadyExists");

/** Starts the manager and one actor per Deployment; the informers must already be started. */
export function startDeploymentController(deps: DeploymentControllerDeps): DeploymentController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;

  function replicaSetsOf(ns: string): ReplicaSet[] {
    return deps.replicaSets.list().filter((rs) => (rs.metadata.namespace ?? "default") === ns);
  }

  /** Pods controlled by the deployment's ReplicaSets (only Recreate asks). */
  function podsOf(d: Deployment, rses: readonly ReplicaSet[]): Pod[] {
    if (!deps.pods) return [];
    const uids = new Set(ownedReplicaSets(d, rses).map((rs) => rs.metadata.uid));
    const ns = d.metadata.namespace ?? "default";
    return deps.pods.list().filter((p) => (p.metadata.namespace ?? "default") === ns && p.metadata.ownerReferences?.some((o) => o.controller && uids.has(o.uid)));
  }

  async function execute(d: Deployment, cmd: DeploymentCommand): Promise<void> {
    const ns = d.metadata.namespace;
    switch (cmd.type) {
      case "createReplicaSet":
        await deps.client.create("replicasets", cmd.rs, ns);
        deps.recorder.record(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${cmd.rs.metadata.name} to ${cmd.rs.spec.replicas ?? 0}`);
        return;
      case "scaleReplicaSet": {
        const from = cmd.rs.spec.replicas ?? 1;
        await deps.client.patch("replicasets", cmd.rs.metadata.name, { spec: { replicas: cmd.replicas } }, { namespace: ns, type: "merge" });
        deps.recorder.record(d, "Normal", "ScalingReplicaSet", `Scaled ${cmd.replicas > from ? "up" : "down"} replica set ${cmd.rs.metadata.name} from ${from} to ${cmd.replicas}`);
        return;
      }
      case "syncReplicaSet":
        await deps.client.patch(
          "replicasets",
          cmd.rs.metadata.name,
          {
            ...(cmd.annotations ? { metadata: { annotations: cmd.annotations } } : {}),
            ...(cmd.minReadySeconds !== undefined ? { spec: { minReadySeconds: cmd.minReadySeconds } } : {}),
          },
          { namespace: ns, type: "merge" },
        );
        return;
      case "setDeploymentRevision":
        await deps.client.patch("deployments", d.metadata.name, { metadata: { annotations: { [REVISION_ANNOTATION]: cmd.revision } } }, { namespace: ns, type: "merge" });
        return;
      case "deleteReplicaSet":
        await deps.client.delete("replicasets", cmd.rs.metadata.name, ns, { preconditions: { uid: cmd.rs.metadata.uid } });
        return;
      case "updateStatus": {
        // Fresh read: the revision patch above changed the resourceVersion our cached copy has.
        const fresh = await deps.client.get("deployments", d.metadata.name, ns);
        if (fresh.metadata.uid !== d.metadata.uid) return;
        const prev = fresh.status?.conditions?.find((c) => c.type === "Progressing");
        const next = cmd.status.conditions?.find((c) => c.type === "Progressing");
        if (next?.reason === "ProgressDeadlineExceeded" && prev?.reason !== "ProgressDeadlineExceeded") {
          deps.recorder.record(d, "Warning", "ProgressDeadlineExceeded", next.message ?? "progress deadline exceeded");
        }
        await deps.client.updateStatus("deployments", { ...fresh, status: cmd.status });
        return;
      }
      default: {
        const never: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  async function pass(key: string): Promise<{ requeueAfterMs?: number }> {
    const d = deps.deployments.get(key);
    if (!d) return {};
    const t = now();
    const rses = replicaSetsOf(d.metadata.namespace ?? "default");
    const commands = decideDeployment({ deployment: d, replicaSets: rses, pods: d.spec.strategy?.type === "Recreate" ? podsOf(d, rses) : undefined, now: t });
    let raced = false;
    for (const cmd of commands) {
      try {
        await execute(d, cmd);
      } catch (err) {
        // Someone else changed the object (or our view lags): look again with fresh data.
        if (!lostRace(err)) throw err;
        raced = true;
      }
    }
    if (raced) return { requeueAfterMs: 100 };
    const owned = ownedReplicaSets(d, rses);
    const status = deploymentStatus(d, splitReplicaSets(d, owned).newRS, owned, t);
    return { requeueAfterMs: requeueAfterMs(d, status, t) };
  }

  // Woken by the Deployment and by the ReplicaSets it controls (their status carries the pods' readiness).
  const loops = startOwnerLoops<Deployment, ReplicaSet>({ name: "deploy", owners: deps.deployments, children: deps.replicaSets, ownerKind: "Deployment", pass, lostRace, log });

  const unsubscribe = [
    // A pod gone or finished may be what a Recreate rollout waits for.
    ...(deps.pods
      ? [deps.pods.subscribe((ev) => {
          const p = ev.object;
          if (ev.type !== "DELETED" && p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded") return;
          const rsOwner = p.metadata.ownerReferences?.find((o) => o.controller && o.kind === "ReplicaSet");
          if (!rsOwner) return;
          const rs = deps.replicaSets.get(`${p.metadata.namespace ?? ""}/${rsOwner.name}`);
          const owner = rs?.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Deployment");
          const key = owner ? loops.keyOf(owner.uid) : undefined;
          if (key && deps.deployments.get(key)?.spec.strategy?.type === "Recreate") loops.wake(key);
        })]
      : []),
  ];

  return {
    loop: loops.loop,
    controllers: loops.controllers,
    stop() {
      for (const u of unsubscribe) u();
      loops.stop();
    },
  };
}
