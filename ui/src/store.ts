/**
 * The page's copy of the cluster: the feed's messages applied to maps of slim views. Pods that
 * go away linger for a moment as "leaving" so the page can fade them out; pods that arrive after
 * the first snapshot are "entering" for a moment so they can grow in.
 */
import type { ControllerView, EndpointsView, EventView, FeedMessage, NodeView, PodView, ServiceView, ViewKind } from "../../runtime/ui/view.ts";

export const EVENTS_KEPT = 100;
export const LEAVE_MS = 700;
export const ENTER_MS = 900;

export class ClusterStore {
  nodes = new Map<string, NodeView>();
  pods = new Map<string, PodView>();
  services = new Map<string, ServiceView>();
  endpoints = new Map<string, EndpointsView>();
  /** Replication controllers; Deployments and ReplicaSets have maps of their own, so an RC and an RS of one name do not collide. */
  controllers = new Map<string, ControllerView>();
  deployments = new Map<string, ControllerView>();
  replicasets = new Map<string, ControllerView>();
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
      case "events": return new Map();
    }
  }
}

export const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
export const nsKey = podKey;

function byKey<T>(items: T[], key: (t: T) => string): Map<string, T> {
  return new Map(items.map((i) => [key(i), i]));
}

/** A Deployment with the ReplicaSets it controls (newest-named first is not promised: by name). */
export interface ControllerGroup {
  top: ControllerView;
  children: ControllerView[];
}

/**
 * The Controllers panel's rows: Deployments with their ReplicaSets beneath, then ReplicaSets
 * without a (drawn) Deployment, then replication controllers; each group sorted by name.
 */
export function controllerGroups(s: ClusterStore): ControllerGroup[] {
  const byName = (a: ControllerView, b: ControllerView) => (a.namespace + "/" + a.name < b.namespace + "/" + b.name ? -1 : 1);
  const children = new Map<string, ControllerView[]>();
  const loose: ControllerView[] = [];
  for (const rs of s.replicasets.values()) {
    const parent = rs.owner ? `${rs.namespace}/${rs.owner}` : undefined;
    if (parent && s.deployments.has(parent)) {
      let g = children.get(parent);
      if (!g) children.set(parent, (g = []));
      g.push(rs);
    } else loose.push(rs);
  }
  const out: ControllerGroup[] = [];
  for (const d of [...s.deployments.values()].sort(byName)) out.push({ top: d, children: (children.get(nsKey(d)) ?? []).sort(byName) });
  for (const rs of loose.sort(byName)) out.push({ top: rs, children: [] });
  for (const rc of [...s.controllers.values()].sort(byName)) out.push({ top: rc, children: [] });
  return out;
}

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
