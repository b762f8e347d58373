/**
 * The page's copy of the cluster: the feed's messages applied to maps of slim views. Pods that
 * go away linger for a moment as "leaving" so the page can fade them out; pods that arrive after
 * the first snapshot are "entering" for a moment so they can grow in.
 */
import type { BudgetView, ControllerView, CronJobView, EndpointsView, EventView, FeedMessage, JobView, NodeView, PodView, ServiceView, ViewKind } from "../../runtime/ui/view.ts";

export const EVENTS_KEPT = 100;
export const LEAVE_MS = 700;
export const ENTER_MS = 900;

export class ClusterStore {
  nodes = new Map<string, NodeView>();
  pods = new Map<string, PodView>();
  services = new Map<string, ServiceView>();
  endpoints = new Map<string, EndpointsView>();
  /** Replication controllers; every other kind has a map of its own, so an RC and an RS of one name do not collide. */
  controllers = new Map<string, ControllerView>();
  deployments = new Map<string, ControllerView>();
  replicasets = new Map<string, ControllerView>();
  statefulsets = new Map<string, ControllerView>();
  daemonsets = new Map<string, ControllerView>();
  jobs = new Map<string, JobView>();
  cronjobs = new Map<string, CronJobView>();
  budgets = new Map<string, BudgetView>();
  /** Oldest first, at most EVENTS_KEPT. */
  events: EventView[] = [];
  leaving = new Map<string, { pod: PodView; until: number }>();
  entering = new Map<string, number>();
  /** Bumped on every change; components memoize derived data on it. */
  version = 0;
  synced = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  apply(msg: FeedMessage): void {
    this.version++;
    if (msg.type === "snapshot") {
      this.nodes = byKey(msg.items.nodes, (n) => n.name);
      this.pods = byKey(msg.items.pods, podKey);
      this.services = byKey(msg.items.services, nsKey);
      this.endpoints = byKey(msg.items.endpoints, nsKey);
      this.controllers = byKey(msg.items.replicationcontrollers, nsKey);
      this.deployments = byKey(msg.items.deployments ?? [], nsKey);
      this.replicasets = byKey(msg.items.replicasets ?? [], nsKey);
      this.statefulsets = byKey(msg.items.statefulsets ?? [], nsKey);
      this.daemonsets = byKey(msg.items.daemonsets ?? [], nsKey);
      this.jobs = byKey(msg.items.jobs ?? [], nsKey);
      this.cronjobs = byKey(msg.items.cronjobs ?? [], nsKey);
      this.budgets = byKey(msg.items.poddisruptionbudgets ?? [], nsKey);
      this.events = msg.items.events.slice(-EVENTS_KEPT);
      this.leaving.clear();
      this.entering.clear();
      this.synced = true;
      return;
    }
    if (msg.type === "relist") {
      const items = msg.items as never[];
      switch (msg.kind) {
        case "nodes": this.nodes = byKey(items as NodeView[], (n) => n.name); break;
        case "pods": this.pods = byKey(items as PodView[], podKey); break;
        case "services": this.services = byKey(items as ServiceView[], nsKey); break;
        case "endpoints": this.endpoints = byKey(items as EndpointsView[], nsKey); break;
        case "replicationcontrollers": this.controllers = byKey(items as ControllerView[], nsKey); break;
        case "deployments": this.deployments = byKey(items as ControllerView[], nsKey); break;
        case "replicasets": this.replicasets = byKey(items as ControllerView[], nsKey); break;
        case "statefulsets": this.statefulsets = byKey(items as ControllerView[], nsKey); break;
        case "daemonsets": this.daemonsets = byKey(items as ControllerView[], nsKey); break;
        case "jobs": this.jobs = byKey(items as JobView[], nsKey); break;
        case "cronjobs": this.cronjobs = byKey(items as CronJobView[], nsKey); break;
        case "poddisruptionbudgets": this.budgets = byKey(items as BudgetView[], nsKey); break;
        case "events": this.events = (items as EventView[]).slice(-EVENTS_KEPT); break;
      }
      return;
    }
    const t = this.now();
    for (const c of msg.changes) {
      if (c.kind === "events") {
        if (c.op === "put") {
          const ev = c.obj as EventView;
          this.events = this.events.filter((e) => nsKey(e) !== c.key);
          this.events.push(ev);
          if (this.events.length > EVENTS_KEPT) this.events = this.events.slice(-EVENTS_KEPT);
        }
        continue;
      }
      if (c.kind === "pods") {
        if (c.op === "put") {
          if (!this.pods.has(c.key)) this.entering.set(c.key, t + ENTER_MS);
          this.leaving.delete(c.key);
          this.pods.set(c.key, c.obj as PodView);
        } else {
          const old = this.pods.get(c.key);
          if (old) this.leaving.set(c.key, { pod: old, until: t + LEAVE_MS });
          this.pods.delete(c.key);
          this.entering.delete(c.key);
        }
        continue;
      }
      const m = this.mapOf(c.kind);
      if (c.op === "put") m.set(c.key, c.obj);
      else m.delete(c.key);
    }
  }

  /** Forgets leaving and entering marks whose moment has passed; true if any went. */
  expire(): boolean {
    const t = this.now();
    let changed = false;
    for (const [k, v] of this.leaving) if (v.until <= t) (this.leaving.delete(k), (changed = true));
    for (const [k, until] of this.entering) if (until <= t) (this.entering.delete(k), (changed = true));
    if (changed) this.version++;
    return changed;
  }

  private mapOf(kind: ViewKind): Map<string, unknown> {
    switch (kind) {
      case "nodes": return this.nodes;
      case "pods": return this.pods;
      case "services": return this.services;
      case "endpoints": return this.endpoints;
      case "replicationcontrollers": return this.controllers;
      case "deployments": return this.deployments;
      case "replicasets": return this.replicasets;
      case "statefulsets": return this.statefulsets;
      case "daemonsets": return this.daemonsets;
      case "jobs": return this.jobs;
      case "cronjobs": return this.cronjobs;
      case "poddisruptionbudgets": return this.budgets;
      case "events": return new Map();
    }
  }
}

export const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
export const nsKey = podKey;

function byKey<T>(items: T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((i) => [key(i), i]));
}

/**
 * One entry of the Controllers panel: a controller with what it controls listed beneath — a
 * Deployment's ReplicaSets, a CronJob's Jobs — or one alone.
 */
export type ControllerGroup =
  | { type: "controller"; top: ControllerView; children: ControllerView[] }
  | { type: "cronjob"; top: CronJobView; children: JobView[] }
  | { type: "job"; top: JobView; children: [] };

const byName = (a: { namespace: string; name: string }, b: { namespace: string; name: string }) => (nsKey(a) < nsKey(b) ? -1 : nsKey(a) > nsKey(b) ? 1 : 0);

/** Groups `items` under the parent (in `parents`, by `namespace/name`) each names; the rest are loose. */
function underParents<T extends { namespace: string; name: string; owner?: string }>(items: Iterable<T>, parents: Map<string, unknown>): { children: Map<string, T[]>; loose: T[] } {
  const children = new Map<string, T[]>();
  const loose: T[] = [];
  for (const it of items) {
    const parent = it.owner ? `${it.namespace}/${it.owner}` : undefined;
    if (parent && parents.has(parent)) {
      let g = children.get(parent);
      if (!g) children.set(parent, (g = []));
      g.push(it);
    } else loose.push(it);
  }
  return { children, loose };
}

/**
 * The Controllers panel's rows, each kind sorted by namespace and name: Deployments with their
 * ReplicaSets beneath, ReplicaSets without a (drawn) Deployment, replication controllers,
 * StatefulSets, DaemonSets, CronJobs with their Jobs beneath, then Jobs without a (drawn) CronJob.
 */
export function controllerGroups(s: ClusterStore): ControllerGroup[] {
  const sorted = <T extends { namespace: string; name: string }>(it: Iterable<T>) => [...it].sort(byName);
  const alone = (c: ControllerView): ControllerGroup => ({ type: "controller", top: c, children: [] });
  const rs = underParents(s.replicasets.values(), s.deployments);
  const jobs = underParents(s.jobs.values(), s.cronjobs);
  return [
    ...sorted(s.deployments.values()).map((d): ControllerGroup => ({ type: "controller", top: d, children: (rs.children.get(nsKey(d)) ?? []).sort(byName) })),
    ...rs.loose.sort(byName).map(alone),
    ...sorted(s.controllers.values()).map(alone),
    ...sorted(s.statefulsets.values()).map(alone),
    ...sorted(s.daemonsets.values()).map(alone),
    ...sorted(s.cronjobs.values()).map((c): ControllerGroup => ({ type: "cronjob", top: c, children: (jobs.children.get(nsKey(c)) ?? []).sort(byName) })),
    ...jobs.loose.sort(byName).map((j): ControllerGroup => ({ type: "job", top: j, children: [] })),
  ];
}

/** The disruption budgets, by namespace and name. */
export const budgetList = (s: ClusterStore): BudgetView[] => [...s.budgets.values()].sort(byName);

/** A drawn pod: the live ones and, for a moment, the ones that just went. */
export interface DrawnPod {
  pod: PodView;
  leaving: boolean;
  entering: boolean;
}

/** Pods grouped by node name ("" for unscheduled), each group sorted by name. */
export function podsByNode(s: ClusterStore): Map<string, DrawnPod[]> {
  const groups = new Map<string, DrawnPod[]>();
  const add = (d: DrawnPod) => {
    const k = d.pod.node ?? "";
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(d);
  };
  for (const [k, pod] of s.pods) add({ pod, leaving: false, entering: s.entering.has(k) });
  for (const { pod } of s.leaving.values()) add({ pod, leaving: true, entering: false });
  for (const g of groups.values()) g.sort((a, b) => (a.pod.name < b.pod.name ? -1 : a.pod.name > b.pod.name ? 1 : 0));
  return groups;
}
