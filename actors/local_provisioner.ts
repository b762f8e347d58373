/**
 * The local provisioner: Kubernetes' PV controller and a local-path provisioner in
 * `WaitForFirstConsumer` mode, as one small controller. Berth serves no PersistentVolume
 * objects: a claim's volume is a Docker volume on the node the scheduler placed its first pod
 * on, made by that node when the pod starts (runtime/kubelet/claim_volumes.ts).
 *
 *   claims informer (any change), nodes informer (a node deleted) ──▶ wake ──▶ work loop
 *   one pass: provisionerCommands (pure, volume_claims_decide.ts) ──▶ per claim:
 *     waitForFirstConsumer → Normal event WaitForFirstConsumer, once per claim (as the PV
 *                            controller writes it: "waiting for first consumer to be created
 *                            before binding")
 *     provision            → update: spec.volumeName pvc-<uid>, finalizer berth.dev/local-volume
 *                            (compare-and-swap), then updateStatus: phase Bound, accessModes,
 *                            capacity.storage = requests.storage (compare-and-swap, at the
 *                            version the update returned); Normal event ProvisioningSucceeded
 *     resize               → updateStatus: capacity.storage raised to the larger request (a
 *                            Docker volume has no size: nothing else changes)
 *     nodeLost             → the claim's node is no Node any more, so no one will remove its
 *                            volume: the Node is read afresh, and if it is gone the finalizer
 *                            berth.dev/local-volume is taken off (update), Warning ClaimLost
 *     waitForNode          → the claim's node exists but is not Ready: its volume (and so the
 *                            claim and its name) waits for that node. One Warning event
 *                            WaitingForNode per claim names the node and how to end the wait
 *   Also woken when a node's readiness changes, while some deleted claim waits for its node.
 *   A lost compare-and-swap, or a claim gone, is no failure: the informer shows the change and
 *   wakes the loop. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import type { Observe } from "../model/observe.ts";
import { LOCAL_VOLUME_FINALIZER } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { nodeIsReady } from "./scheduler_decide.ts";
import { awaitingReclaim, boundStatus, provisionedVolumeName, provisionerCommands, selectedNode, WAIT_FOR_FIRST_CONSUMER_MESSAGE, waitingForNodeMessage } from "./volume_claims_decide.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";

export interface LocalProvisionerDeps {
  client: ApiClient;
  claims: Informer<"persistentvolumeclaims">;
  nodes: Informer<"nodes">;
  recorder: EventRecorder;
  log?: Log;
  observe?: Observe;
}

export interface LocalProvisioner {
  loop: WorkLoop;
  stop(): void;
}

function gone(err: unknown): boolean {
  return err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound");
}

export function startLocalProvisioner(deps: LocalProvisionerDeps): LocalProvisioner {
  const log = deps.log ?? (() => {});
  /** Uids of claims told WaitForFirstConsumer already. */
  let waited = new Set<string>();
  /** Uids of claims told WaitingForNode already. */
  let waitingForNode = new Set<string>();
  /** Deleted claims still waiting for their node to remove the volume, as of the last pass. */
  let awaiting = 0;

  async function nodeExists(name: string): Promise<boolean> {
    try {
      await deps.client.get("nodes", name);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return false;
      throw err;
    }
  }

  const loop = startWorkLoop("local-provisioner", async () => {
    const claims = deps.claims.list();
    const nodeList = deps.nodes.list();
    const nodes = new Set(nodeList.map((n) => n.metadata.name));
    const ready = new Set(nodeList.filter(nodeIsReady).map((n) => n.metadata.name));
    // Forget the claims that went, so the sets do not grow for ever.
    const live = new Set(claims.map((c) => c.metadata.uid ?? ""));
    waited = new Set([...waited].filter((uid) => live.has(uid)));
    waitingForNode = new Set([...waitingForNode].filter((uid) => live.has(uid)));
    awaiting = claims.filter(awaitingReclaim).length;
    let failed: unknown;
    for (const cmd of provisionerCommands({ claims, nodes, ready, waited, waitingForNode })) {
      const key = objectKey(cmd.claim);
      try {
        switch (cmd.type) {
          case "waitForFirstConsumer":
            waited.add(cmd.claim.metadata.uid ?? "");
            deps.recorder.record(cmd.claim, "Normal", "WaitForFirstConsumer", WAIT_FOR_FIRST_CONSUMER_MESSAGE);
            break;
          case "provision": {
            const withSpec = cmd.next ? await deps.client.update("persistentvolumeclaims", cmd.next) : cmd.claim;
            await deps.client.updateStatus("persistentvolumeclaims", { ...withSpec, status: boundStatus(withSpec) });
            const volume = provisionedVolumeName(withSpec);
            deps.recorder.record(withSpec, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${volume}`);
            log("provisioned and bound a claim", { claim: key, volume, node: selectedNode(withSpec) });
            break;
          }
          case "resize":
            await deps.client.updateStatus("persistentvolumeclaims", { ...cmd.claim, status: { ...cmd.claim.status, capacity: { ...cmd.claim.status?.capacity, storage: cmd.storage } } });
            log("raised a claim's capacity to its request (a Docker volume has no size)", { claim: key, storage: cmd.storage });
            break;
          case "nodeLost":
            if (await nodeExists(cmd.node)) break; // the informer lags: the node is there after all
            await deps.client.update("persistentvolumeclaims", cmd.next);
            deps.recorder.record(cmd.claim, "Warning", "ClaimLost",
              `node "${cmd.node}" no longer exists: the data of volume ${provisionedVolumeName(cmd.claim)} is lost with its node; finalizer ${LOCAL_VOLUME_FINALIZER} removed without deleting the volume`);
            log("released a deleted claim whose node is gone; its volume's data is lost with the node", { claim: key, node: cmd.node });
            break;
          case "waitForNode":
            waitingForNode.add(cmd.claim.metadata.uid ?? "");
            deps.recorder.record(cmd.claim, "Warning", "WaitingForNode", waitingForNodeMessage(cmd.claim, cmd.node));
            log("a deleted claim waits for its node, which is not Ready, to remove its volume", { claim: key, node: cmd.node });
            break;
        }
      } catch (err) {
        if (gone(err)) continue;
        // Anything else (the store away) fails the pass after the other claims had their turn.
        failed ??= err;
      }
    }
    if (failed) throw failed;
    return {};
  }, log, deps.observe);

  const unsubscribe = [
    deps.claims.subscribe(() => loop.wake()),
    deps.nodes.subscribe((ev) => {
      // A node gone lets its claims go; a node no longer (or again) Ready changes what a claim
      // waiting for it is told. Heartbeats alone change nothing here.
      if (ev.type === "DELETED" || (awaiting > 0 && (!ev.old || nodeIsReady(ev.old) !== nodeIsReady(ev.object)))) loop.wake();
    }),
  ];
  return {
    loop,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
