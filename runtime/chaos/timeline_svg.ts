/**
 * The timeline of a chaos run as an SVG document: pure string generation, no browser.
 *
 *   faults        one row per fault kind, with the fault windows also shaded over every panel
 *   replicas      per RC: ready pods (solid), running copies (dashed), desired (dotted)
 *   nodes         one row per node: Ready (green), NotReady (red), Unknown (grey)
 *   requests      success rate per time bucket (line) and failed requests (red bars)
 */
import { entriesOf, faultWindows, markTime, type HistoryEntry } from "./history.ts";

const W = 1100;
const LEFT = 150;
const RIGHT = 30;
const PLOT_W = W - LEFT - RIGHT;
const PALETTE = ["#1f77b4", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf"];
const FAULT_COLORS: Record<string, string> = {
  "container-kill": "#d62728",
  "container-pause": "#ff7f0e",
  "node-agent-kill": "#8c564b",
  "node-partition": "#e377c2",
  "nats-restart": "#9467bd",
  "nats-pause": "#bcbd22",
  "docker-stop": "#17becf",
  "endpoint-toxic": "#7f7f7f",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

export interface TimelineOptions {
  title?: string;
  /** Bucket width for the request success rate (ms); default: about 80 buckets. */
  bucketMs?: number;
}

/** Renders the timeline of a history as a standalone SVG document. */
export function renderTimelineSvg(entries: readonly HistoryEntry[], opts: TimelineOptions = {}): string {
  const samples = entriesOf(entries, "sample");
  const requests = entriesOf(entries, "request");
  const windows = faultWindows(entries);
  const end = Math.max(1, ...entries.map((e) => ("t" in e ? e.t : e.end)));
  const x = (t: number) => LEFT + (Math.max(0, Math.min(end, t)) / end) * PLOT_W;
  const parts: string[] = [];
  let y = 40;

  const kinds = [...new Set(windows.map((w) => w.kind))];
  const rcs = [...new Set(samples.flatMap((s) => Object.keys(s.rcs)))].sort();
  const nodes = [...new Set(samples.flatMap((s) => Object.keys(s.nodes)))].sort();

  // Panel geometry first, so the fault shading can span all panels.
  const faultTop = y;
  const faultH = Math.max(1, kinds.length) * 18;
  const repTop = faultTop + faultH + 30;
  const repH = 160;
  const nodeTop = repTop + repH + 30;
  const nodeH = Math.max(1, nodes.length) * 18;
  const reqTop = nodeTop + nodeH + 30;
  const reqH = requests.length ? 110 : 0;
  const axisY = (requests.length ? reqTop + reqH : nodeTop + nodeH) + 8;
  const H = axisY + 60;

  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${esc(opts.title ?? "chaos run")}</text>`);

  // Fault shading across every panel, then one labelled row per kind.
  for (const w of windows) {
    const c = FAULT_COLORS[w.kind] ?? "#999";
    const x0 = x(w.start);
    const wd = Math.max(2, x(w.end) - x0);
    parts.push(`<rect x="${x0.toFixed(1)}" y="${repTop}" width="${wd.toFixed(1)}" height="${axisY - repTop}" fill="${c}" fill-opacity="0.12"/>`);
  }
  kinds.forEach((k, i) => {
    const ry = faultTop + i * 18;
    parts.push(`<text x="${LEFT - 8}" y="${ry + 12}" font-size="11" text-anchor="end">${esc(k)}</text>`);
    for (const w of windows.filter((w) => w.kind === k)) {
      const x0 = x(w.start);
      const wd = Math.max(3, x(w.end) - x0);
      parts.push(`<rect x="${x0.toFixed(1)}" y="${ry + 2}" width="${wd.toFixed(1)}" height="13" fill="${FAULT_COLORS[k] ?? "#999"}" rx="2"><title>${esc(`${w.id} ${w.kind} ${w.resolved ?? w.target} ${(w.start / 1000).toFixed(1)}s–${(w.end / 1000).toFixed(1)}s`)}</title></rect>`);
      if (wd > 40) parts.push(`<text x="${(x0 + 3).toFixed(1)}" y="${ry + 12}" font-size="9" fill="#fff">${esc(w.resolved ?? w.target)}</text>`);
    }
  });
  if (!kinds.length) parts.push(`<text x="${LEFT - 8}" y="${faultTop + 12}" font-size="11" text-anchor="end">faults</text><text x="${LEFT + 4}" y="${faultTop + 12}" font-size="11" fill="#777">none</text>`);

  // Replicas panel.
  const maxRep = Math.max(1, ...samples.flatMap((s) => Object.values(s.rcs).flatMap((r) => [r.desired, r.ready, r.active, r.running ?? 0])));
  const ry = (n: number) => repTop + repH - (n / (maxRep + 1)) * repH;
  parts.push(`<text x="${LEFT - 8}" y="${repTop + 12}" font-size="12" text-anchor="end" font-weight="bold">replicas</text>`);
  parts.push(`<rect x="${LEFT}" y="${repTop}" width="${PLOT_W}" height="${repH}" fill="none" stroke="#ccc"/>`);
  for (let n = 0; n <= maxRep + 1; n++) {
    parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${ry(n).toFixed(1)}" y2="${ry(n).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${LEFT - 4}" y="${(ry(n) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555">${n}</text>`);
  }
  const step = (pts: [number, number][]) => {
    if (!pts.length) return "";
    let d = `M${x(pts[0][0]).toFixed(1)},${ry(pts[0][1]).toFixed(1)}`;
    for (let i = 1; i < pts.length; i++) d += ` H${x(pts[i][0]).toFixed(1)} V${ry(pts[i][1]).toFixed(1)}`;
    return d + ` H${x(end).toFixed(1)}`;
  };
  rcs.forEach((rc, i) => {
    const c = PALETTE[i % PALETTE.length];
    const pts = samples.filter((s) => s.rcs[rc]);
    const off = i * 1.5; // keep overlapping lines of several RCs apart
    const line = (f: (r: (typeof pts)[number]["rcs"][string]) => number | undefined) =>
      pts.flatMap((s): [number, number][] => {
        const v = f(s.rcs[rc]);
        return v === undefined ? [] : [[s.t, v]];
      });
    parts.push(`<path d="${step(line((r) => r.desired))}" fill="none" stroke="${c}" stroke-width="1.2" stroke-dasharray="1,3" transform="translate(0,${-off})"/>`);
    parts.push(`<path d="${step(line((r) => r.running))}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="6,3" transform="translate(0,${-off})"/>`);
    parts.push(`<path d="${step(line((r) => r.ready))}" fill="none" stroke="${c}" stroke-width="2.2" transform="translate(0,${-off})"/>`);
    const lx = LEFT + 8 + i * 260;
    parts.push(`<text x="${lx}" y="${repTop - 6}" font-size="10" fill="${c}">${esc(rc)}: ready ━  running ╍  desired ┈</text>`);
  });

  // Nodes panel.
  parts.push(`<text x="${LEFT - 8}" y="${nodeTop - 8}" font-size="12" text-anchor="end" font-weight="bold">nodes</text>`);
  nodes.forEach((n, i) => {
    const top = nodeTop + i * 18;
    parts.push(`<text x="${LEFT - 8}" y="${top + 12}" font-size="11" text-anchor="end">${esc(n)}</text>`);
    let from = 0;
    let state: string | undefined;
    const flush = (to: number) => {
      if (state === undefined) return;
      const fill = state === "True" ? "#2ca02c" : state === "False" ? "#d62728" : state === "absent" ? "#ffffff" : "#aaaaaa";
      parts.push(`<rect x="${x(from).toFixed(1)}" y="${top + 2}" width="${Math.max(0.5, x(to) - x(from)).toFixed(1)}" height="13" fill="${fill}"><title>${esc(`${n} Ready=${state} from ${(from / 1000).toFixed(1)}s`)}</title></rect>`);
    };
    for (const s of samples) {
      const st = s.nodes[n] ?? "absent";
      if (st !== state) {
        flush(s.t);
        state = st;
        from = s.t;
      }
    }
    flush(end);
  });

  // Requests panel.
  if (requests.length) {
    const bucket = opts.bucketMs ?? Math.max(250, niceStep(end, 80));
    const nb = Math.ceil(end / bucket);
    const ok = new Array(nb).fill(0);
    const bad = new Array(nb).fill(0);
    for (const r of requests) {
      const b = Math.min(nb - 1, Math.floor(r.start / bucket));
      if (r.ok) ok[b]++;
      else bad[b]++;
    }
    const maxBad = Math.max(1, ...bad);
    parts.push(`<text x="${LEFT - 8}" y="${reqTop + 12}" font-size="12" text-anchor="end" font-weight="bold">requests</text>`);
    parts.push(`<text x="${LEFT - 8}" y="${reqTop + 26}" font-size="10" text-anchor="end" fill="#555">success % (line)</text>`);
    parts.push(`<text x="${LEFT - 8}" y="${reqTop + 38}" font-size="10" text-anchor="end" fill="#d62728">failed (bars, max ${maxBad})</text>`);
    parts.push(`<rect x="${LEFT}" y="${reqTop}" width="${PLOT_W}" height="${reqH}" fill="none" stroke="#ccc"/>`);
    let d = "";
    for (let b = 0; b < nb; b++) {
      const total = ok[b] + bad[b];
      const bx = x(b * bucket);
      const bw = Math.max(1, x((b + 1) * bucket) - bx - 1);
      if (bad[b]) parts.push(`<rect x="${bx.toFixed(1)}" y="${(reqTop + reqH - (bad[b] / maxBad) * reqH * 0.5).toFixed(1)}" width="${bw.toFixed(1)}" height="${((bad[b] / maxBad) * reqH * 0.5).toFixed(1)}" fill="#d62728" fill-opacity="0.7"><title>${bad[b]} failed of ${total}</title></rect>`);
      if (!total) continue;
      const py = reqTop + 4 + (1 - ok[b] / total) * (reqH - 8);
      d += `${d ? " L" : "M"}${(bx + bw / 2).toFixed(1)},${py.toFixed(1)}`;
    }
    parts.push(`<path d="${d}" fill="none" stroke="#2ca02c" stroke-width="1.8"/>`);
    parts.push(`<text x="${LEFT + PLOT_W + 4}" y="${reqTop + 8}" font-size="9" fill="#555">100%</text><text x="${LEFT + PLOT_W + 4}" y="${reqTop + reqH}" font-size="9" fill="#555">0%</text>`);
  }

  // Marks (workload applied, faults started, healed) and the time axis.
  for (const label of ["faults", "healed"]) {
    const t = markTime(entries, label);
    if (t === undefined) continue;
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${repTop}" y2="${axisY}" stroke="#333" stroke-dasharray="4,3"/>`);
    parts.push(`<text x="${(x(t) + 3).toFixed(1)}" y="${axisY + 38}" font-size="10" fill="#333">${label}</text>`);
  }
  parts.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`);
  const tick = niceStep(end, 12);
  for (let t = 0; t <= end; t += tick) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${axisY}" y2="${axisY + 5}" stroke="#333"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 18}" font-size="10" text-anchor="middle">${(t / 1000).toFixed(tick < 1000 ? 1 : 0)}s</text>`);
  }
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}
