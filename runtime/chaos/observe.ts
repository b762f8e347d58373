/**
 * Observation: periodic samples of the cluster into the history, and the final state the
 * checkers read. Reads go through the in-process API (when NATS is down a sample is skipped:
 * a gap in the timeline, not an error) and straight to the nodes' container runtimes (running
 * copies are counted from the engines, whatever the API believes).
 */
import type { Pod, ReplicationController } from "../../model/types.ts";
import { LABELS } from "../../model/container_runtime.ts";
import type { FinalState } from "./checkers.ts";
import type { ChaosCluster } from "./cluster.ts";
import type { History, RcSample, Sample } from "./history.ts";
import { isPodReady } from "../../model/pod.ts";
import { sliceServiceKey } from "../../actors/slice_view.ts";

const key = (ns: string | undefined, name: string) => `${ns ?? "default"}/${name}`;

function isActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return !p.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed" && phase !== "Unknown";
}

interface RunningContainer {
  id: string;
  node: string;
  podUid: string;
  pod: string;
  container: string;
  role: string;
  running: boolean;
}

/** Watches the cluster for one run. */
export class Observer {
  /** Pod uid → owning RC key, remembered across deletions (a ghost copy still counts for its RC). */
  private readonly owner = new Map<string, string>();
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private inFlight?: Promise<void>;
  /** RCs (ns/name) to report; others in the cluster are ignored. */
  readonly rcs = new Set<string>();
  readonly services = new Set<string>();
  last?: Sample;

  constructor(private readonly cc: ChaosCluster, private readonly history: History, private readonly intervalMs = 250) {}

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      this.inFlight = this.sample().then(() => {}, () => {});
      await this.inFlight;
      if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** Every labelled container of this cluster's nodes; undefined for a node whose engine is down. */
  async containers(): Promise<{ list: RunningContainer[]; complete: boolean }> {
    const list: RunningContainer[] = [];
    let complete = true;
    for (const n of this.cc.nodes) {
      try {
        for (const c of await n.runtime.listContainers({ [LABELS.node]: n.name })) {
          list.push({
            id: c.id,
            node: n.logical,
            podUid: c.labels[LABELS.podUid] ?? "",
            pod: `${c.labels[LABELS.podNamespace] ?? "default"}/${c.labels[LABELS.podName] ?? "?"}`,
            container: c.labels[LABELS.container] ?? "?",
            role: c.labels[LABELS.role] ?? "?",
            // A paused container still runs (it holds its pod's place); only exited ones do not.
            running: c.state === "running" || c.state === "paused",
          });
        }
      } catch {
        complete = false;
      }
    }
    return { list, complete };
  }

  /** Takes one sample now and appends it to the history. */
  async sample(): Promise<Sample | undefined> {
    const api = this.cc.api;
    const t = this.history.now();
    let rcs: ReplicationController[], pods: Pod[], nodes, eps;
    try {
      [rcs, pods, nodes, eps] = await Promise.all([
        api.list("replicationcontrollers").then((l) => l.items),
        api.list("pods").then((l) => l.items),
        api.list("nodes").then((l) => l.items),
        api.list("endpointslices").then((l) => l.items),
      ]);
    } catch {
      return undefined; // API unreachable (e.g. NATS paused): no sample this tick
    }
    const uidToRc = new Map<string, string>();
    for (const rc of rcs) if (this.rcs.has(key(rc.metadata.namespace, rc.metadata.name))) uidToRc.set(rc.metadata.uid!, key(rc.metadata.namespace, rc.metadata.name));
    for (const p of pods) {
      const ref = p.metadata.ownerReferences?.find((o) => o.controller);
      const rc = ref && uidToRc.get(ref.uid);
      if (rc) this.owner.set(p.metadata.uid!, rc);
    }
    const { list: containers, complete } = await this.containers();
    const out: Record<string, RcSample> = {};
    for (const rc of rcs) {
      const k = key(rc.metadata.namespace, rc.metadata.name);
      if (!this.rcs.has(k)) continue;
      const mine = pods.filter((p) => this.owner.get(p.metadata.uid!) === k);
      const active = mine.filter(isActive);
      const runningUids = new Set(containers.filter((c) => c.running && c.role === "app" && this.owner.get(c.podUid) === k).map((c) => c.podUid));
      out[k] = {
        desired: rc.spec.replicas ?? 1,
        active: active.length,
        ready: active.filter(isPodReady).length,
        running: complete ? runningUids.size : undefined,
      };
    }
    const nodeState: Record<string, string> = {};
    for (const n of this.cc.nodes) {
      const obj = nodes.find((x) => x.metadata.name === n.name);
      nodeState[n.logical] = obj ? obj.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "no-condition" : "absent";
    }
    // Ready endpoints as the service proxy counts them: the distinct ready addresses of the
    // Service's IPv4 EndpointSlices (actors/slice_view.ts reads them the same way).
    const ready = new Map<string, Set<string>>();
    for (const slice of eps) {
      const k = sliceServiceKey(slice);
      if (!k || !this.services.has(k) || slice.addressType !== "IPv4") continue;
      const set = ready.get(k) ?? new Set<string>();
      for (const e of slice.endpoints ?? []) if (e.conditions?.ready !== false && e.addresses?.[0]) set.add(e.addresses[0]);
      ready.set(k, set);
    }
    const endpoints: Record<string, number> = {};
    for (const [k, set] of ready) endpoints[k] = set.size;
    const copies = new Map<string, number>();
    for (const c of containers) if (c.running && c.role === "app") copies.set(`${c.podUid}/${c.container}`, (copies.get(`${c.podUid}/${c.container}`) ?? 0) + 1);
    const duplicates = [...copies].filter(([, n]) => n > 1).map(([k]) => k);
    const s: Sample = { type: "sample", t, rcs: out, nodes: nodeState, endpoints, ...(duplicates.length ? { duplicates } : {}) };
    this.history.add(s);
    this.last = s;
    return s;
  }

  /** The final state for the checkers. */
  async final(tracked: { resource: string; namespace?: string; name: string; readValue?: (o: unknown) => number | undefined }[]): Promise<FinalState> {
    const api = this.cc.api;
    const s = (await this.sample()) ?? this.last;
    const pods = (await api.list("pods")).items;
    const services = (await api.list("services")).items.map((x) => key(x.metadata.namespace, x.metadata.name));
    const objects: FinalState["objects"] = {};
    for (const t of tracked) {
      try {
        const o = await api.get(t.resource as "namespaces", t.name, t.namespace);
        objects[`${t.resource}/${t.namespace ?? ""}/${t.name}`] = { uid: o.metadata.uid!, value: t.readValue?.(o) };
      } catch {
        // Absent: the checker decides whether that is a lost write.
      }
    }
    const { list } = await this.containers();
    const volumes: FinalState["volumes"] = [];
    for (const n of this.cc.nodes) {
      for (const v of await n.runtime.listVolumes({ [LABELS.node]: n.name, [LABELS.volumeKind]: "emptyDir" }).catch(() => [])) {
        volumes.push({ name: v.name, node: n.logical, podUid: v.labels[LABELS.podUid] ?? "" });
      }
    }
    const listeners: string[] = [];
    if (this.cc.services) {
      for (const k of this.services) {
        const [ns, name] = k.split("/");
        if (this.cc.services.dataplane.proxiesOf(ns, name).length) listeners.push(k);
      }
    }
    const unready = pods
      .filter((p) => this.owner.has(p.metadata.uid!) && !isPodReady(p))
      .map((p) => {
        const cs = p.status?.containerStatuses?.[0];
        const state = cs?.state ? Object.entries(cs.state).map(([k, v]) => `${k}${(v as { reason?: string })?.reason ? ` (${(v as { reason?: string }).reason})` : ""}`).join(",") : "no status";
        return `pod ${p.metadata.name} on ${p.spec.nodeName ?? "(unbound)"}: phase ${p.status?.phase ?? "?"}, container ${state}, ready=${cs?.ready ?? false}, restarts ${cs?.restartCount ?? 0}${p.metadata.deletionTimestamp ? ", terminating" : ""}`;
      });
    return {
      t: this.history.now(),
      unready,
      rcs: s?.rcs ?? {},
      objects,
      pods: Object.fromEntries(pods.map((p) => {
        const n = this.cc.nodes.find((x) => x.name === p.spec.nodeName);
        return [p.metadata.uid!, { namespace: p.metadata.namespace ?? "default", name: p.metadata.name, node: n?.logical ?? p.spec.nodeName }];
      })),
      services,
      containers: list,
      volumes,
      listeners,
    };
  }
}
