/**
 * The side panel's parts and the overlays: an object's details with its labels, the event
 * stream, the confirmation dialog, the log tail, the toast and the pod tooltip.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { EventView, NodeView, PodView } from "../../runtime/ui/view.ts";
import { tailLogs, type Action } from "./api.ts";
import { fmtClock } from "./describe.ts";
import type { Confirm, Selected } from "./selection.ts";
import type { ClusterStore } from "./store.ts";

export function Labels({ labels, onFocusLabel }: { labels: Record<string, string>; onFocusLabel: (k: string, v: string) => void }) {
  const entries = Object.entries(labels);
  if (!entries.length) return <p class="empty">no labels</p>;
  return (
    <ul class="labels">
      {entries.map(([k, v]) => (
        <li key={k}><button type="button" class="label" onClick={() => onFocusLabel(k, v)} aria-label={`highlight pods labelled ${k}=${v}`}>{k}={v}</button></li>
      ))}
    </ul>
  );
}

export function Details({ store, selected, onFocusLabel, onClose, onDeletePod, onCordon, onLogs }: {
  store: ClusterStore;
  selected: Selected;
  onFocusLabel: (k: string, v: string) => void;
  onClose: () => void;
  onDeletePod: (p: PodView) => void;
  onCordon: (n: NodeView) => void;
  onLogs: (p: PodView, container: string) => void;
}) {
  if (!selected) {
    return (
      <section class="details" aria-labelledby="h-details">
        <h2 id="h-details">Details</h2>
        <p class="empty">Select a pod or a node. Select a label, a service, a controller or a disruption budget to highlight the pods it picks.</p>
      </section>
    );
  }
  if (selected.kind === "node") {
    const n = store.nodes.get(selected.name);
    if (!n) return <section class="details"><h2>Details</h2><p class="empty">Node {selected.name} is gone.</p></section>;
    return (
      <section class="details" aria-labelledby="h-details">
        <h2 id="h-details">Node {n.name} <button type="button" class="link close" onClick={onClose} aria-label="close details">×</button></h2>
        <p>Ready: <b>{n.ready}</b>{n.unschedulable ? " · cordoned" : ""}{n.address ? ` · ${n.address}` : ""}</p>
        <Labels labels={n.labels} onFocusLabel={onFocusLabel} />
        <button type="button" class="button" onClick={() => onCordon(n)}>{n.unschedulable ? "Uncordon…" : "Cordon…"}</button>
      </section>
    );
  }
  const p = store.pods.get(selected.key);
  if (!p) return <section class="details"><h2>Details</h2><p class="empty">Pod {selected.key} is gone.</p></section>;
  return (
    <section class="details" aria-labelledby="h-details">
      <h2 id="h-details">Pod {p.name} <button type="button" class="link close" onClick={onClose} aria-label="close details">×</button></h2>
      <p>
        <b>{p.phase}</b>{p.ready ? ", ready" : ", not ready"}{p.terminating ? ", terminating" : ""} · node <b>{p.node ?? "(unscheduled)"}</b>
        {p.ip ? ` · ${p.ip}` : ""}{p.owner ? ` · ${p.owner}` : ""}
      </p>
      <table class="ctrs">
        <thead><tr><th scope="col">container</th><th scope="col">state</th><th scope="col">restarts</th><th scope="col"><span class="sr">logs</span></th></tr></thead>
        <tbody>
          {p.containers.map((c) => (
            <tr key={c.name}>
              <td title={c.image}>{c.name}</td>
              <td>{c.state}{c.ready ? " (ready)" : ""}</td>
              <td>{c.restarts}</td>
              <td><button type="button" class="button small" onClick={() => onLogs(p, c.name)} aria-label={`logs of ${c.name}`}>Logs</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <Labels labels={p.labels} onFocusLabel={onFocusLabel} />
      <button type="button" class="button danger" onClick={() => onDeletePod(p)} disabled={p.terminating}>Delete pod…</button>
    </section>
  );
}

export function Events({ events }: { events: EventView[] }) {
  const list = events.slice(-60).reverse();
  return (
    <section class="events" aria-labelledby="h-events">
      <h2 id="h-events">Events</h2>
      {list.length === 0 && <p class="empty">No events yet.</p>}
      <ol>
        {list.map((e) => (
          <li key={`${e.namespace}/${e.name}`} class={e.type === "Warning" ? "warn" : ""}>
            <time>{fmtClock(e.time)}</time> <b>{e.reason}</b> <span class="obj">{e.object}</span>{e.count > 1 ? ` ×${e.count}` : ""}
            <span class="msg">{e.message}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function ConfirmDialog({ c, onDone, run }: { c: Confirm; onDone: () => void; run: (a: Action) => Promise<void> }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [replicas, setReplicas] = useState(c.replicas ?? 0);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  const valid = c.replicas === undefined || (Number.isInteger(replicas) && replicas >= 0 && replicas <= 10000);
  return (
    <dialog ref={ref} class="dialog" onClose={onDone} aria-labelledby="dlg-title">
      <form method="dialog" onSubmit={async (e) => {
        e.preventDefault();
        if (!valid) return;
        setBusy(true);
        await run(c.action(replicas));
        ref.current?.close();
      }}>
        <h2 id="dlg-title">{c.title}</h2>
        <p>{c.text}</p>
        {c.replicas !== undefined && (
          <p>
            <label for="dlg-replicas">Replicas</label>{" "}
            <input id="dlg-replicas" type="number" min={0} max={10000} value={replicas} onInput={(e) => setReplicas(Number((e.target as HTMLInputElement).value))} />
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" class="button quiet" onClick={() => ref.current?.close()}>Cancel</button>
          <button type="submit" class={`button${c.danger ? " danger" : ""}`} disabled={busy || !valid}>{c.confirmLabel}</button>
        </div>
      </form>
    </dialog>
  );
}

export function LogPanel({ namespace, pod, container, onClose }: { namespace: string; pod: string; container: string; onClose: () => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    setText("");
    setError(null);
    tailLogs(namespace, pod, container, (s) => setText((t) => (t + s).split("\n").slice(-500).join("\n")), ctrl.signal).catch((e) => {
      if (!ctrl.signal.aborted) setError((e as Error).message);
    });
    return () => ctrl.abort();
  }, [namespace, pod, container]);
  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text]);
  return (
    <section class="logpanel" aria-label={`log of ${pod}/${container}`}>
      <header>
        <h2>Log · {pod} / {container}</h2>
        <button type="button" class="button quiet small" onClick={onClose}>Close</button>
      </header>
      {error && <p class="login-error" role="alert">{error}</p>}
      <pre ref={pre} tabIndex={0} data-testid="log-text">{text}</pre>
    </section>
  );
}

export function Toast({ text, error, onDone }: { text: string; error: boolean; onDone: () => void }) {
  useEffect(() => {
    const t = setTimeout(onDone, 5000);
    return () => clearTimeout(t);
  }, [text]);
  return <p class={`toast${error ? " toast-error" : ""}`} role={error ? "alert" : "status"}>{text}</p>;
}

/** One tooltip for every pod, placed on hover or keyboard focus: phase, node, IP, containers, labels. */
export function Tooltip({ store }: { store: ClusterStore }) {
  const [tip, setTip] = useState<{ key: string; x: number; y: number } | null>(null);
  useEffect(() => {
    const show = (e: Event) => {
      const el = (e.target as Element | null)?.closest?.("[data-pod]");
      if (!el) return;
      const r = el.getBoundingClientRect();
      setTip({ key: el.getAttribute("data-pod")!, x: r.left, y: r.bottom + 6 });
    };
    const hide = (e: Event) => {
      if ((e.target as Element | null)?.closest?.("[data-pod]")) setTip(null);
    };
    document.addEventListener("mouseover", show);
    document.addEventListener("focusin", show);
    document.addEventListener("mouseout", hide);
    document.addEventListener("focusout", hide);
    return () => {
      document.removeEventListener("mouseover", show);
      document.removeEventListener("focusin", show);
      document.removeEventListener("mouseout", hide);
      document.removeEventListener("focusout", hide);
    };
  }, []);
  if (!tip) return null;
  const p = store.pods.get(tip.key);
  if (!p) return null;
  const x = Math.min(tip.x, window.innerWidth - 300);
  const below = tip.y + 180 < window.innerHeight;
  return (
    <div class="tooltip" role="tooltip" style={below ? { left: `${x}px`, top: `${tip.y}px` } : { left: `${x}px`, bottom: `${window.innerHeight - tip.y + 30}px` }}>
      <b>{p.name}</b>
      <div>{p.phase}{p.ready ? ", ready" : ", not ready"}{p.terminating ? ", terminating" : ""} · {p.node ?? "unscheduled"}{p.ip ? ` · ${p.ip}` : ""}</div>
      <div>{p.containers.map((c) => `${c.name} (${c.state}${c.restarts ? `, ↻${c.restarts}` : ""})`).join(", ")}</div>
      <ul class="labels">{Object.entries(p.labels).map(([k, v]) => <li key={k}><span class="label">{k}={v}</span></li>)}</ul>
    </div>
  );
}
