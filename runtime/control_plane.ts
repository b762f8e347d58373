/**
 * The control plane: the master's control loops over one `ApiClient` — what `berth up`,
 * `berth control-plane` and `Cluster` start.
 *
 *   informers (list+watch caches, one each, shared):  pods  nodes  replicationcontrollers
 *        │
 *        ├── scheduler            binds pending pods to nodes          (actors/scheduler.ts)
 *        ├── controller manager   one RC actor per RC                  (actors/controller_manager.ts)
 *        ├── node lifecycle       heartbeats → Ready=Unknown → evict   (actors/node_lifecycle.ts)
 *        ├── garbage collector    pods of deleted RCs / deleted nodes  (actors/garbage_collector.ts)
 *        ├── autoscalers          targets' replicas from pod usage      (actors/hpa_controller.ts)
 *        ├── endpoint slices      every Service's EndpointSlices, from its pods or its Endpoints (actors/endpointslice_controller.ts)
 *        ├── quota controller     ResourceQuota status.hard/used        (actors/resource_quota.ts)
 *        ├── event TTL sweeper    deletes Events older than eventTtlMs  (actors/event_ttl.ts)
 *        ├── service accounts     a `default` ServiceAccount per namespace (actors/service_account.ts)
 *        ├── clusterrole aggregation  admin/edit/view filled from labelled roles (actors/clusterrole_aggregation.ts)
 *        ├── local provisioner    claims placed by the scheduler → Bound (actors/local_provisioner.ts)
 *        └── pvc protection       a claim in use stays until its pods are gone (actors/pvc_protection.ts)
 *
 * Every loop is a root xstate actor with an error observer. Stopping is idempotent.
 */
import type { ApiClient } from "../model/client.ts";
import { createEventRecorder, type EventRecorder } from "../actors/event_recorder.ts";
import { Informer } from "../actors/informer_cache.ts";
import { startScheduler, type Scheduler } from "../actors/scheduler.ts";
import { startControllerManager, type ControllerManager } from "../actors/controller_manager.ts";
import { startNodeLifecycle, type NodeLifecycle } from "../actors/node_lifecycle.ts";
import { startGarbageCollector, type GarbageCollector } from "../actors/garbage_collector.ts";
import { startDeploymentController, type DeploymentController } from "../actors/deployment_controller.ts";
import { startJobController, type JobController } from "../actors/job_controller.ts";
import { startCronJobController, type CronJobController } from "../actors/cronjob_controller.ts";
import { startDaemonSetController, type DaemonSetController } from "../actors/daemonset_controller.ts";
import { startStatefulSetController, type StatefulSetController } from "../actors/statefulset_controller.ts";
import { startDisruptionController, type DisruptionController } from "../actors/disruption_controller.ts";
import { startTaintEviction, type TaintEviction } from "../actors/taint_eviction.ts";
import { startHpaController, type HpaController } from "../actors/hpa_controller.ts";
import type { UsageReport } from "../model/usage.ts";
import { parseSchedule } from "./cron.ts";
import type { Log } from "../model/log.ts";
import type { Observe } from "../model/observe.ts";
import { type ServiceController, type ServiceControllerOptions, startServiceController } from "./service_controller.ts";
import type { EndpointSliceController } from "../actors/endpointslice_controller.ts";
import { startQuotaController, type QuotaController } from "../actors/resource_quota.ts";
import { startEventSweeper, type EventSweeper } from "../actors/event_ttl.ts";
import { startServiceAccountController, type ServiceAccountController } from "../actors/service_account.ts";
import { startClusterRoleAggregationController, type ClusterRoleAggregationController } from "../actors/clusterrole_aggregation.ts";
import { startRootCaPublisher, type RootCaPublisher } from "../actors/root_ca_publisher.ts";
import { ROOT_CA_CONFIGMAP } from "../model/pod_references.ts";
import { startLocalProvisioner, type LocalProvisioner } from "../actors/local_provisioner.ts";
import { startPvcProtection, type PvcProtection } from "../actors/pvc_protection.ts";

export interface ControlPlaneOptions {
  client: ApiClient;
  /** Time without a node heartbeat before the node becomes Ready=Unknown. Default 5 s. */
  nodeGracePeriodMs?: number;
  /** Time a node stays not Ready before its pods are evicted and replaced. Default 10 s. */
  podEvictionTimeoutMs?: number;
  /** How long a controller waits for its creates/deletes to show before acting anyway. Default 60 s. */
  expectationsTtlMs?: number;
  /** Time to live of an Event (Kubernetes' `--event-ttl`). Default 1 h. */
  eventTtlMs?: number;
  /** Full recount period of the quota controller. Default 30 s. */
  quotaResyncMs?: number;
  /** Record a `Scheduled` event per bound pod. Default true. */
  scheduledEvents?: boolean;
  log?: Log;
  /** Metrics and actor inspection for every loop (none by default). */
  observe?: Observe;
  /** Clock, for tests. */
  now?: () => number;
  /**
   * The service controller (ClusterIP/NodePort allocation, Endpoints), with its ranges. Default
   * on; `false` leaves Services unallocated (tests of other loops).
   */
  services?: ServiceControllerOptions | false;
  /** The wait before a Job's pod replaces a failed one (tests shorten it). Default 10 s doubling, at most 10 min. */
  jobBackoff?: { baseMs: number; maxMs: number };
  /** The CronJob controller's clock, in ms (tests run schedules on a clock of their own). Default `now`. */
  cronJobNow?: () => number;
  /** The node agents' newest usage reports, which HorizontalPodAutoscalers scale on (a UsageStore's `reports`). None: autoscalers find no metrics. */
  usage?: () => UsageReport[];
  /** How often each HorizontalPodAutoscaler is synced. Default 15 s, as Kubernetes. */
  hpaSyncPeriodMs?: number;
  /**
   * The cluster CA (PEM), published as the ConfigMap `kube-root-ca.crt` in every namespace (what
   * pods' token volumes project as `ca.crt`). Absent: nothing is published.
   */
  rootCaPem?: string;
}

export interface ControlPlane {
  informers: {
    pods: Informer<"pods">;
    nodes: Informer<"nodes">;
    replicationcontrollers: Informer<"replicationcontrollers">;
    replicasets: Informer<"replicasets">;
    deployments: Informer<"deployments">;
    jobs: Informer<"jobs">;
    cronjobs: Informer<"cronjobs">;
    daemonsets: Informer<"daemonsets">;
    statefulsets: Informer<"statefulsets">;
    persistentvolumeclaims: Informer<"persistentvolumeclaims">;
    controllerrevisions: Informer<"controllerrevisions">;
    poddisruptionbudgets: Informer<"poddisruptionbudgets">;
    horizontalpodautoscalers: Informer<"horizontalpodautoscalers">;
    services?: Informer<"services">;
    endpoints?: Informer<"endpoints">;
    endpointslices?: Informer<"endpointslices">;
    namespaces: Informer<"namespaces">;
    serviceaccounts: Informer<"serviceaccounts">;
    clusterroles: Informer<"clusterroles">;
    rootCaConfigMaps?: Informer<"configmaps">;
  };
  scheduler: Scheduler;
  controllers: ControllerManager;
  /** The ReplicaSet actors (the RC actor, run on apps/v1 ReplicaSets) and the Deployment controller. */
  replicaSets: ControllerManager;
  deployments: DeploymentController;
  jobs: JobController;
  cronJobs: CronJobController;
  daemonSets: DaemonSetController;
  statefulSets: StatefulSetController;
  /** PodDisruptionBudgets' status, which evictions decide on. */
  disruption: DisruptionController;
  /** HorizontalPodAutoscalers: their targets' replicas from their pods' usage. */
  autoscalers: HpaController;
  taintEviction: TaintEviction;
  nodeLifecycle: NodeLifecycle;
  garbageCollector: GarbageCollector;
  /** Absent when started with `services: false`. */
  serviceController?: ServiceController;
  /** Every Service's EndpointSlices (from its pods, or mirrored from its Endpoints); absent with `services: false`. */
  endpointSlices?: EndpointSliceController;
  quotaController: QuotaController;
  eventSweeper: EventSweeper;
  serviceAccounts: ServiceAccountController;
  /** ClusterRoles with an aggregationRule (admin, edit, view): their rules from the roles they select. */
  clusterRoleAggregation: ClusterRoleAggregationController;
  /** `kube-root-ca.crt` in every namespace; absent without `rootCaPem`. */
  rootCaPublisher?: RootCaPublisher;
  /** PersistentVolumeClaims: placed claims provisioned and Bound; deleted ones released by their node. */
  localProvisioner: LocalProvisioner;
  pvcProtection: PvcProtection;
  recorder: EventRecorder;
  stop(): Promise<void>;
}

/** How long an informer may be out of touch with the API before readiness says so. */
const STALE_AFTER_MS = 10_000;

/**
 * The readiness check of control loops (`/readyz` lists it as `informer-sync`): every informer
 * has loaded its first list and none has been out of touch with the API for more than 10 s.
 * `get` answers the loops running now (none on a standby copy: then it passes).
 */
export function informerSyncCheck(get: () => ControlPlane | undefined) {
  return {
    name: "informer-sync",
    readinessOnly: true,
    check(): void {
      const cp = get();
      if (!cp) return;
      for (const i of Object.values(cp.informers)) {
        if (!i) continue;
        if (!i.synced) throw new Error(`the ${i.resource} informer has not synced`);
        const stale = i.staleFor();
        if (stale > STALE_AFTER_MS) throw new Error(`the ${i.resource} informer has been out of touch for ${Math.round(stale / 1000)} s`);
      }
    },
  };
}

/** Starts the informers (waiting for their first list) and then every control loop. */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const { client } = opts;
  const log: Log = opts.log ?? (() => {});
  // Each part's lines carry its name (`berth logs --component scheduler|controller-manager|node-lifecycle`).
  const schedulerLog: Log = (m, f) => log(m, { component: "scheduler", ...f });
  const controllerLog = (controller: string): Log => (m, f) => log(m, { component: "controller-manager", controller, ...f });
  const now = opts.now ?? Date.now;
  const informers = {
    pods: new Informer(client, "pods", { log }),
    nodes: new Informer(client, "nodes", { log }),
    replicationcontrollers: new Informer(client, "replicationcontrollers", { log }),
    replicasets: new Informer(client, "replicasets", { log }),
    deployments: new Informer(client, "deployments", { log }),
    jobs: new Informer(client, "jobs", { log }),
    cronjobs: new Informer(client, "cronjobs", { log }),
    daemonsets: new Informer(client, "daemonsets", { log }),
    statefulsets: new Informer(client, "statefulsets", { log }),
    persistentvolumeclaims: new Informer(client, "persistentvolumeclaims", { log }),
    controllerrevisions: new Informer(client, "controllerrevisions", { log }),
    poddisruptionbudgets: new Informer(client, "poddisruptionbudgets", { log }),
    horizontalpodautoscalers: new Informer(client, "horizontalpodautoscalers", { log }),
    ...(opts.services !== false ? {
      services: new Informer(client, "services", { log }),
      endpoints: new Informer(client, "endpoints", { log }),
      endpointslices: new Informer(client, "endpointslices", { log }),
    } : {}),
    namespaces: new Informer(client, "namespaces", { log }),
    serviceaccounts: new Informer(client, "serviceaccounts", { log }),
    clusterroles: new Informer(client, "clusterroles", { log }),
    ...(opts.rootCaPem ? { rootCaConfigMaps: new Informer(client, "configmaps", { log, fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` }) } : {}),
  };
  // All at once: on a NATS cluster that lost a server each start may need a second try.
  await Promise.all(Object.values(informers).map((i) => i.start()));
  const recorder = createEventRecorder(client, "berth-controller-manager", controllerLog("events"));
  const schedulerRecorder = createEventRecorder(client, "berth-scheduler", schedulerLog);

  const scheduler = startScheduler({
    client,
    pods: informers.pods,
    nodes: informers.nodes,
    claims: informers.persistentvolumeclaims,
    recorder: schedulerRecorder,
    log: schedulerLog,
    observe: opts.observe,
    now,
    scheduledEvents: opts.scheduledEvents ?? true,
  });
  const controllers = startControllerManager({
    client,
    pods: informers.pods,
    rcs: informers.replicationcontrollers,
    recorder,
    log: controllerLog("replicationcontroller"),
    observe: opts.observe,
    now,
    expectationsTtlMs: opts.expectationsTtlMs,
  });
  const replicaSets = startControllerManager({
    client,
    pods: informers.pods,
    rcs: informers.replicasets,
    recorder,
    log: controllerLog("replicaset"),
    now,
    expectationsTtlMs: opts.expectationsTtlMs,
  });
  const deployments = startDeploymentController({ client, deployments: informers.deployments, replicaSets: informers.replicasets, pods: informers.pods, recorder, log: controllerLog("deployment"), now });
  const jobs = startJobController({ client, jobs: informers.jobs, pods: informers.pods, recorder, log: controllerLog("job"), now, backoff: opts.jobBackoff, expectationsTtlMs: opts.expectationsTtlMs });
  const daemonSets = startDaemonSetController({ client, daemonSets: informers.daemonsets, pods: informers.pods, nodes: informers.nodes, revisions: informers.controllerrevisions, recorder, log: controllerLog("daemonset"), now, expectationsTtlMs: opts.expectationsTtlMs });
  const statefulSets = startStatefulSetController({ client, statefulSets: informers.statefulsets, pods: informers.pods, claims: informers.persistentvolumeclaims, revisions: informers.controllerrevisions, recorder, log: controllerLog("statefulset"), now });
  const disruption = startDisruptionController({ client, budgets: informers.poddisruptionbudgets, pods: informers.pods, rcs: informers.replicationcontrollers, replicaSets: informers.replicasets, deployments: informers.deployments, statefulSets: informers.statefulsets, recorder, log: controllerLog("disruption"), observe: opts.observe, now });
  const autoscalers = startHpaController({ client, autoscalers: informers.horizontalpodautoscalers, pods: informers.pods, usage: opts.usage, recorder, syncPeriodMs: opts.hpaSyncPeriodMs, log: controllerLog("horizontal-pod-autoscaler"), observe: opts.observe, now });
  const taintEviction = startTaintEviction({ client, nodes: informers.nodes, pods: informers.pods, recorder, log: controllerLog("taint-eviction"), now });
  const cronJobs = startCronJobController({ client, cronJobs: informers.cronjobs, jobs: informers.jobs, recorder, parseSchedule, log: controllerLog("cronjob"), now: opts.cronJobNow ?? now });
  const nodeLifecycle = startNodeLifecycle({
    client,
    pods: informers.pods,
    nodes: informers.nodes,
    recorder,
    log: controllerLog("node-lifecycle"),
    observe: opts.observe,
    now,
    gracePeriodMs: opts.nodeGracePeriodMs,
    podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
  });
  const garbageCollector = startGarbageCollector({
    client,
    pods: informers.pods,
    rcs: informers.replicationcontrollers,
    nodes: informers.nodes,
    replicaSets: informers.replicasets,
    deployments: informers.deployments,
    jobs: informers.jobs,
    cronJobs: informers.cronjobs,
    daemonSets: informers.daemonsets,
    statefulSets: informers.statefulsets,
    claims: informers.persistentvolumeclaims,
    revisions: informers.controllerrevisions,
    recorder,
    log: controllerLog("garbage-collector"),
    observe: opts.observe,
  });
  const serviceController = opts.services === false
    ? undefined
    : await startServiceController(client, {
      ...opts.services,
      services: informers.services,
      pods: informers.pods,
      endpoints: informers.endpoints,
      endpointSlices: informers.endpointslices,
      nodes: informers.nodes,
      log: controllerLog("service"),
      sliceLog: controllerLog("endpointslice"),
      observe: opts.observe,
    });
  const endpointSlices = serviceController?.endpointSlices;
  const quotaController = startQuotaController({
    client,
    pods: informers.pods,
    rcs: informers.replicationcontrollers,
    log: controllerLog("resource-quota"),
    observe: opts.observe,
    resyncMs: opts.quotaResyncMs,
  });
  const eventSweeper = startEventSweeper({ client, log: controllerLog("event-ttl"), now, ttlMs: opts.eventTtlMs, observe: opts.observe });
  const serviceAccounts = startServiceAccountController({ client, namespaces: informers.namespaces, serviceAccounts: informers.serviceaccounts, log: controllerLog("serviceaccount"), observe: opts.observe });
  const clusterRoleAggregation = startClusterRoleAggregationController({ client, clusterRoles: informers.clusterroles, log: controllerLog("clusterrole-aggregation"), observe: opts.observe });
  const rootCaPublisher = opts.rootCaPem && informers.rootCaConfigMaps
    ? startRootCaPublisher({ client, namespaces: informers.namespaces, configMaps: informers.rootCaConfigMaps, caPem: opts.rootCaPem, log: controllerLog("root-ca-cert-publisher"), observe: opts.observe })
    : undefined;
  // Events about claims come from the PV controller's name, as in Kubernetes.
  const volumeRecorder = createEventRecorder(client, "persistentvolume-controller", controllerLog("events"));
  const localProvisioner = startLocalProvisioner({ client, claims: informers.persistentvolumeclaims, nodes: informers.nodes, recorder: volumeRecorder, log: controllerLog("persistentvolume-binder"), observe: opts.observe });
  const pvcProtection = startPvcProtection({ client, claims: informers.persistentvolumeclaims, pods: informers.pods, log: controllerLog("pvc-protection"), observe: opts.observe });
  schedulerLog("scheduler started");
  for (const c of ["replicationcontroller", "replicaset", "deployment", "job", "cronjob", "daemonset", "statefulset", "taint-eviction", "node-lifecycle", "garbage-collector", ...(serviceController ? ["service", "endpointslice", "endpointslicemirroring"] : []), "resource-quota", "event-ttl", "serviceaccount", "clusterrole-aggregation", ...(rootCaPublisher ? ["root-ca-cert-publisher"] : []), "persistentvolume-binder", "pvc-protection"]) controllerLog(c)("controller started");
  log("control plane started", {
    nodeGracePeriodMs: opts.nodeGracePeriodMs ?? 5000,
    podEvictionTimeoutMs: opts.podEvictionTimeoutMs ?? 10000,
  });

  let stopping: Promise<void> | undefined;
  return {
    informers,
    scheduler,
    controllers,
    replicaSets,
    deployments,
    jobs,
    cronJobs,
    daemonSets,
    statefulSets,
    disruption,
    autoscalers,
    taintEviction,
    nodeLifecycle,
    garbageCollector,
    serviceController,
    endpointSlices,
    quotaController,
    eventSweeper,
    serviceAccounts,
    clusterRoleAggregation,
    rootCaPublisher,
    localProvisioner,
    pvcProtection,
    recorder,
    stop() {
      stopping ??= (async () => {
        scheduler.stop();
        controllers.stop();
        replicaSets.stop();
        deployments.stop();
        jobs.stop();
        cronJobs.stop();
        daemonSets.stop();
        statefulSets.stop();
        disruption.stop();
        autoscalers.stop();
        taintEviction.stop();
        nodeLifecycle.stop();
        garbageCollector.stop();
        await serviceController?.stop(); // its endpointslice controllers with it
        quotaController.stop();
        eventSweeper.stop();
        serviceAccounts.stop();
        clusterRoleAggregation.stop();
        rootCaPublisher?.stop();
        localProvisioner.stop();
        pvcProtection.stop();
        await Promise.all(Object.values(informers).map((i) => i.stop()));
        await Promise.all([recorder.flush(), schedulerRecorder.flush(), volumeRecorder.flush()]);
      })();
      return stopping;
    },
  };
}
