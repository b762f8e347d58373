/**
 * The picture: services across the top with lines to their ready pods, nodes as boxes holding
 * their pods, and a side panel with the controllers (cards.tsx), the disruption budgets, the
 * selected object and the event stream. Pure rendering of the store; actions go through api.ts
 * after a confirmation dialog.
 */
import { memo } from "preact/compat";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import { SCALE_RESOURCE, type ControllerView, type NodeView, type PodView, type ServiceView } from "../../runtime/ui/view.ts";
import { act, signOut, type Action } from "./api.ts";
import { BudgetCard, ControllerCard, CronJobCard, JobCard } from "./cards.tsx";
import { controllerFocus, fmtMap, focusPicks, KIND_WORDS, labelFocus, serviceFocus, specFocus, type Focus } from "./describe.ts";
import { ConfirmDialog, Details, Events, LogPanel, Toast, Tooltip } from "./panels.tsx";
import type { Confirm, Selected } from "./selection.ts";

export type { Confirm, Focus, Selected };
import { budgetList, controllerGroups, podKey, podsByNode, type ClusterStore, type DrawnPod } from "./store.ts";

/** Above this many pods, pods are drawn as small tiles without text. */
export const COMPACT_ABOVE = 300;
/** Lines from services to pods are drawn for all services up to this many endpoints in total. */
const MAX_LINES = 400;

export function App({ store, conn }: { store: ClusterStore; conn: "connecting" | "live" | "reconnecting" | "signed-out" }) {
  const [focus, setFocus] = useState<Focus | null>(null);
  const [selected, setSelected] = useState<Selected>(null);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [logs, setLogs] = useState<{ namespace: string; pod: string; container: string } | null>(null);
  const [toast, setToast] = useState<{ text: string; error: boolean } | null>(null);
  const [lineService, setLineService] = useState<string | null>(null);

  const groups = useMemo(() => podsByNode(store), [store.version]);
  const compact = store.pods.size > COMPACT_ABOVE;
  const matched = useMemo(() => {
    if (!focus) return null;
    const s = new Set<string>();
    for (const [k, p] of store.pods) if (focusPicks(focus, p)) s.add(k);
    return s;
  }, [focus, store.version]);

  const nodes = [...store.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const ghostNodes = [...groups.keys()].filter((n) => n !== "" && !store.nodes.has(n)).sort();
  const unscheduled = groups.get("") ?? [];
  const services = [...store.services.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const controllers = useMemo(() => controllerGroups(store), [store.version]);
  const budgets = useMemo(() => budgetList(store), [store.version]);

  const pods = [...store.pods.values()];
  const running = pods.filter((p) => p.phase === "Running").length;
  const ready = pods.filter((p) => p.ready).length;
  const nodesReady = nodes.filter((n) => n.ready === "True").length;

  const ask = (c: Confirm) => setConfirm(c);
  const run = async (a: Action) => {
    try {
      setToast({ text: await act(a), error: false });
    } catch (e) {
      setToast({ text: (e as Error).message, error: true });
    }
  };
  // Stable callbacks: the memoized node boxes and pods re-render only when their data changes.
  const selectPod = useCallback((key: string) => setSelected({ kind: "pod", key }), []);
  const selectNode = useCallback((name: string) => setSelected({ kind: "node", name }), []);
  const focusLabel = (k: string, v: string) => setFocus(labelFocus(k, v));
  const controllerCard = (c: ControllerView, child: boolean) => {
    // A ReplicaSet its Deployment controls is scaled by the Deployment (it would undo the
    // change); a DaemonSet has no scale (one pod a node).
    const resource = child ? undefined : SCALE_RESOURCE[c.kind];
    return (
      <ControllerCard key={`${c.kind}/${c.namespace}/${c.name}`} rc={c} child={child}
        onFocus={() => setFocus(controllerFocus(c))}
        onScale={resource && (() => ask({
          title: `Scale ${c.name}`,
          text: `Set the desired replicas of ${KIND_WORDS[c.kind]} ${c.name} (now ${c.desired}).`,
          confirmLabel: "Scale",
          replicas: c.desired,
          action: (r) => ({ action: "scale", resource, namespace: c.namespace, name: c.name, replicas: r ?? c.desired }),
        }))} />
    );
  };

  return (
    <div class={`shell${compact ? " compact" : ""}`}>
      <header class="top">
        <h1><span class="logo" aria-hidden="true" />Berth</h1>
        <p class="summary" aria-label="cluster summary">
          <span><b>{nodesReady}</b>/{nodes.length} nodes Ready</span>
          <span><b data-testid="pod-count">{store.pods.size}</b> pods ({running} Running, {ready} ready)</span>
          <span>{services.length} services</span>
        </p>
        {focus && (
          <p class="focus" role="status">
            Highlighting <code>{focus.title}</code>
            <button type="button" class="link" onClick={() => setFocus(null)}>clear</button>
          </p>
        )}
        <span class={`conn conn-${conn}`} role="status">{conn === "live" ? "Live" : conn === "connecting" ? "Connecting…" : conn === "reconnecting" ? "Reconnecting…" : "Signed out"}</span>
        {conn === "signed-out" ? <a class="button" href="/ui/">Sign in</a> : <button type="button" class="button quiet" onClick={() => void signOut()}>Sign out</button>}
      </header>

      <main class="stage-wrap">
        <Stage store={store} services={services} lineService={lineService}>
          <section class={`services${services.length ? "" : " none"}`} aria-label="services">
            {services.length === 0 && <p class="empty">No services.</p>}
            {services.map((s) => (
              <ServiceCard key={`${s.namespace}/${s.name}`} svc={s} store={store} active={lineService === `${s.namespace}/${s.name}`}
                onFocus={() => {
                  setLineService(`${s.namespace}/${s.name}`);
                  setFocus(serviceFocus(s));
                }} />
            ))}
          </section>
          <section class="nodes" aria-label="nodes">
            {nodes.map((n) => (
              <NodeBox key={n.name} name={n.name} node={n} pods={groups.get(n.name) ?? []} matched={matched} compact={compact}
                selectedPod={selected?.kind === "pod" ? selected.key : undefined}
                onSelectPod={selectPod} onSelectNode={selectNode} />
            ))}
            {ghostNodes.map((name) => (
              <NodeBox key={name} name={name} pods={groups.get(name) ?? []} matched={matched} compact={compact}
                selectedPod={selected?.kind === "pod" ? selected.key : undefined} onSelectPod={selectPod} />
            ))}
            {unscheduled.length > 0 && (
              <NodeBox key="" name="" pods={unscheduled} matched={matched} compact={compact}
                selectedPod={selected?.kind === "pod" ? selected.key : undefined} onSelectPod={selectPod} />
            )}
            {nodes.length === 0 && <p class="empty">{store.synced ? "No nodes have registered." : "Loading…"}</p>}
          </section>
        </Stage>
      </main>

      <aside class="side">
        <section aria-labelledby="h-controllers">
          <h2 id="h-controllers">Controllers</h2>
          {controllers.length === 0 && <p class="empty">No controllers.</p>}
          {controllers.map((g) => {
            switch (g.type) {
              case "controller":
                return g.children.length === 0 ? controllerCard(g.top, false) : (
                  <div key={`group/${g.top.kind}/${g.top.namespace}/${g.top.name}`} class="rc-group" role="group" aria-label={`deployment ${g.top.name} and its replica sets`}>
                    {controllerCard(g.top, false)}
                    {g.children.map((c) => controllerCard(c, true))}
                  </div>
                );
              case "cronjob":
                return (
                  <div key={`group/CronJob/${g.top.namespace}/${g.top.name}`} class="rc-group" role="group" aria-label={`cron job ${g.top.name} and its jobs`}>
                    <CronJobCard cj={g.top} />
                    {g.children.map((j) => <JobCard key={`Job/${j.namespace}/${j.name}`} job={j} child={true} onFocus={() => setFocus(specFocus(j))} />)}
                  </div>
                );
              case "job":
                return <JobCard key={`Job/${g.top.namespace}/${g.top.name}`} job={g.top} child={false} onFocus={() => setFocus(specFocus(g.top))} />;
            }
          })}
        </section>
        {budgets.length > 0 && (
          <section aria-labelledby="h-budgets">
            <h2 id="h-budgets">Disruption budgets</h2>
            {budgets.map((b) => <BudgetCard key={`${b.namespace}/${b.name}`} pdb={b} onFocus={() => setFocus(specFocus(b))} />)}
          </section>
        )}
        <Details store={store} selected={selected} onFocusLabel={focusLabel} onClose={() => setSelected(null)}
          onDeletePod={(p) => ask({ title: `Delete pod ${p.name}?`, text: `Pod ${p.name} on ${p.node ?? "no node"} is deleted gracefully; a controller that owns it makes a replacement.`, confirmLabel: "Delete pod", danger: true, action: () => ({ action: "deletePod", namespace: p.namespace, name: p.name }) })}
          onCordon={(n) => ask({
            title: `${n.unschedulable ? "Uncordon" : "Cordon"} node ${n.name}?`,
            text: n.unschedulable ? `New pods may be scheduled on ${n.name} again.` : `No new pods are scheduled on ${n.name}; its pods keep running.`,
            confirmLabel: n.unschedulable ? "Uncordon" : "Cordon",
            action: () => ({ action: n.unschedulable ? "uncordon" : "cordon", name: n.name }),
          })}
          onLogs={(p, c) => setLogs({ namespace: p.namespace, pod: p.name, container: c })} />
        <Events events={store.events} />
      </aside>

      {confirm && <ConfirmDialog c={confirm} onDone={() => setConfirm(null)} run={run} />}
      {logs && <LogPanel {...logs} onClose={() => setLogs(null)} />}
      {toast && <Toast {...toast} onDone={() => setToast(null)} />}
      <Tooltip store={store} />
    </div>
  );
}

function Stage({ store, services, lineService, children }: { store: ClusterStore; services: ServiceView[]; lineService: string | null; children: preact.ComponentChildren }) {
  const ref = useRef<HTMLDivElement>(null);
  const [lines, setLines] = useState<{ d: string; key: string; ready: boolean }[]>([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ro = new ResizeObserver(() => setTick((t) => t + 1));
    if (ref.current) ro.observe(ref.current);
    return () => ro.disconnect();
  }, []);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const id = requestAnimationFrame(() => {
      const base = el.getBoundingClientRect();
      const total = services.reduce((n, s) => n + (store.endpoints.get(`${s.namespace}/${s.name}`)?.ready.length ?? 0), 0);
      const out: { d: string; key: string; ready: boolean }[] = [];
      for (const s of services) {
        const k = `${s.namespace}/${s.name}`;
        if (total > MAX_LINES && lineService !== k) continue;
        const card = el.querySelector(`[data-svc="${cssEsc(k)}"]`);
        const ep = store.endpoints.get(k);
        if (!card || !ep) continue;
        const c = card.getBoundingClientRect();
        const y1 = c.bottom - base.top + el.scrollTop;
        for (const name of ep.ready) {
          const pod = el.querySelector(`[data-pod="${cssEsc(`${s.namespace}/${name}`)}"]`);
          if (!pod) continue;
          const r = pod.getBoundingClientRect();
          const x2 = r.left + r.width / 2 - base.left + el.scrollLeft;
          // From the service's edge straight above the pod where it can, as in the classic picture.
          const x1 = Math.min(Math.max(x2, c.left - base.left + el.scrollLeft + 14), c.right - base.left + el.scrollLeft - 14);
          const y2 = r.top - base.top + el.scrollTop;
          const my = (y1 + y2) / 2;
          out.push({ key: `${k}>${name}`, ready: true, d: `M${x1.toFixed(1)},${y1.toFixed(1)} C${x1.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${my.toFixed(1)} ${x2.toFixed(1)},${y2.toFixed(1)}` });
        }
      }
      setLines(out);
    });
    return () => cancelAnimationFrame(id);
  }, [store.version, tick, lineService, services]);
  return (
    <div class="stage" ref={ref}>
      <svg class="lines" aria-hidden="true">
        {lines.map((l) => <path key={l.key} d={l.d} class="line" />)}
      </svg>
      {children}
    </div>
  );
}

const cssEsc = (s: string) => s.replace(/["\\]/g, "\\$&");

function ServiceCard({ svc, store, active, onFocus }: { svc: ServiceView; store: ClusterStore; active: boolean; onFocus: () => void }) {
  const ep = store.endpoints.get(`${svc.namespace}/${svc.name}`);
  const ready = ep?.ready.length ?? 0;
  const notReady = ep?.notReady.length ?? 0;
  return (
    <button type="button" class={`svc${active ? " active" : ""}`} data-svc={`${svc.namespace}/${svc.name}`} onClick={onFocus}
      aria-label={`service ${svc.name}, ${svc.type} ${svc.clusterIP ?? ""}, ${ready} ready endpoints; highlight its pods`}>
      <span class="svc-name">{svc.name}</span>
      <span class="badge">{svc.type}</span>
      <span class="svc-ip">{svc.externalName ? `alias of ${svc.externalName}` : svc.clusterIP === "None" ? "headless" : svc.clusterIP ?? "pending IP"}</span>
      <span class="svc-ports">{svc.ports.map((p) => `${p.port}${p.targetPort !== undefined && p.targetPort !== p.port ? `→${p.targetPort}` : ""}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol}`).join(", ")}</span>
      <span class="svc-ep">{ready} ready{notReady ? `, ${notReady} not ready` : ""} · {fmtMap(svc.selector)}</span>
    </button>
  );
}

interface NodeBoxProps {
  name: string;
  node?: NodeView;
  pods: DrawnPod[];
  matched: Set<string> | null;
  compact: boolean;
  selectedPod?: string;
  onSelectPod: (key: string) => void;
  onSelectNode?: (name: string) => void;
}

/** Node boxes compare their pods by identity: the store replaces a pod's view only when it changed. */
function sameBox(a: NodeBoxProps, b: NodeBoxProps): boolean {
  if (a.name !== b.name || a.node !== b.node || a.matched !== b.matched || a.compact !== b.compact || a.selectedPod !== b.selectedPod) return false;
  if (a.onSelectPod !== b.onSelectPod || a.onSelectNode !== b.onSelectNode || a.pods.length !== b.pods.length) return false;
  for (let i = 0; i < a.pods.length; i++) {
    const x = a.pods[i], y = b.pods[i];
    if (x.pod !== y.pod || x.leaving !== y.leaving || x.entering !== y.entering) return false;
  }
  return true;
}

const NodeBox = memo(function NodeBox({ name, node, pods, matched, compact, selectedPod, onSelectPod, onSelectNode }: NodeBoxProps) {
  const status = !name ? "unscheduled" : !node ? "missing" : node.ready === "True" ? "ready" : "notready";
  const label = !name ? "Unscheduled" : name;
  const live = pods.filter((p) => !p.leaving).length;
  return (
    <section class={`node node-${status}${node?.unschedulable ? " cordoned" : ""}`} data-node={name} aria-label={`node ${label}`}>
      <header class="node-head">
        {onSelectNode ? <button type="button" class="node-name link" onClick={() => onSelectNode(name)}>{label}</button> : <span class="node-name">{label}</span>}
        <span class={`badge st-${status}`}>{status === "ready" ? "Ready" : status === "notready" ? (node?.ready === "Unknown" ? "NotReady (Unknown)" : "NotReady") : status === "missing" ? "gone" : "Pending"}</span>
        {node?.unschedulable && <span class="badge st-cordoned">Cordoned</span>}
        <span class="count">{live} {live === 1 ? "pod" : "pods"}</span>
      </header>
      <div class="pods">
        {pods.map((d) => {
          const k = podKey(d.pod);
          return <PodChip key={k} pod={d.pod} leaving={d.leaving} entering={d.entering} compact={compact} dim={matched !== null && !matched.has(k)} hit={matched !== null && matched.has(k)} selected={selectedPod === k} onSelect={onSelectPod} />;
        })}
      </div>
    </section>
  );
}, sameBox);

const PodChip = memo(function PodChip({ pod: p, leaving, entering, compact, dim, hit, selected, onSelect }: { pod: PodView; leaving: boolean; entering: boolean; compact: boolean; dim: boolean; hit: boolean; selected: boolean; onSelect: (k: string) => void }) {
  const d = { leaving, entering };
  const k = podKey(p);
  const cls = [
    "pod",
    `ph-${p.phase.toLowerCase()}`,
    p.ready ? "ready" : "unready",
    p.terminating ? "terminating" : "",
    d.leaving ? "leaving" : "",
    d.entering ? "entering" : "",
    dim ? "dim" : "",
    hit ? "hit" : "",
    selected ? "selected" : "",
  ].filter(Boolean).join(" ");
  const state = d.leaving ? "gone" : p.terminating ? "terminating" : `${p.phase}${p.ready ? ", ready" : ", not ready"}`;
  return (
    <button type="button" class={cls} data-pod={k} data-phase={p.phase} aria-label={`pod ${p.name}: ${state}${p.restarts ? `, ${p.restarts} restarts` : ""}`}
      onClick={() => onSelect(k)} tabIndex={d.leaving ? -1 : 0}>
      {!compact && (
        <>
          <span class="pod-name">{p.name}</span>
          <span class="pod-meta">
            {p.containers.map((c) => <span key={c.name} class={`ctr ${c.ready ? "ctr-ready" : "ctr-unready"}`} title={c.name} />)}
            {p.restarts > 0 && <span class="restarts">↻{p.restarts}</span>}
          </span>
        </>
      )}
    </button>
  );
});
