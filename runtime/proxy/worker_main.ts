/**
 * The body of a proxy worker process (see worker_pool.ts): a TcpProxy per registration, serving
 * listeners handed over by the owning process, with the endpoints it sends; counters go back as
 * deltas every 200 ms. When the owner goes away (IPC channel closed) everything is closed and the
 * process exits on its own, having nothing left to run.
 */
import type net from "node:net";
import { TcpProxy } from "./tcp_proxy.ts";
import type { FromWorker, StatsDelta, ToWorker } from "./worker_pool.ts";

interface Served {
  proxy: TcpProxy;
  sent: Omit<StatsDelta, "active">;
}

const REPORT_MS = 200;

function delta(s: Served): StatsDelta | undefined {
  const now = s.proxy.stats;
  const per: Record<string, number> = {};
  for (const [k, v] of Object.entries(now.perEndpoint)) {
    const d = v - (s.sent.perEndpoint[k] ?? 0);
    if (d) per[k] = d;
  }
  const d: StatsDelta = {
    accepted: now.accepted - s.sent.accepted,
    forwarded: now.forwarded - s.sent.forwarded,
    dialFailures: now.dialFailures - s.sent.dialFailures,
    rejected: now.rejected - s.sent.rejected,
    perEndpoint: per,
    active: now.active,
    bytesIn: now.bytesIn - s.sent.bytesIn,
    bytesOut: now.bytesOut - s.sent.bytesOut,
  };
  s.sent = { accepted: now.accepted, forwarded: now.forwarded, dialFailures: now.dialFailures, rejected: now.rejected, perEndpoint: { ...now.perEndpoint }, bytesIn: now.bytesIn, bytesOut: now.bytesOut };
  return d;
}

/** Runs the worker: serves what the owner sends until the owner goes away. */
export function runWorker(): void {
  const served = new Map<number, Served>();
  const lastActive = new Map<number, number>();
  const send = (m: FromWorker) => {
    if (process.connected) process.send!(m);
  };
  const report = (id: number, s: Served) => {
    const d = delta(s);
    if (!d) return;
    const changed = d.accepted || d.forwarded || d.dialFailures || d.rejected || d.bytesIn || d.bytesOut || d.active !== lastActive.get(id);
    if (!changed) return;
    lastActive.set(id, d.active);
    send({ t: "stats", id, d });
  };
  const timer = setInterval(() => {
    for (const [id, s] of served) report(id, s);
  }, REPORT_MS);

  const onMessage = (m: ToWorker, handle?: net.Server) => {
    switch (m.t) {
      case "listen": {
        let s = served.get(m.id);
        if (!s) {
          const proxy = new TcpProxy({ listen: [], name: m.name, dialTimeoutsMs: m.dialTimeoutsMs });
          s = { proxy, sent: { accepted: 0, forwarded: 0, dialFailures: 0, rejected: 0, perEndpoint: {}, bytesIn: 0, bytesOut: 0 } };
          served.set(m.id, s);
        }
        s.proxy.setEndpoints(m.targets);
        if (handle) s.proxy.adopt(handle);
        break;
      }
      case "endpoints":
        served.get(m.id)?.proxy.setEndpoints(m.targets);
        break;
      case "close": {
        const s = served.get(m.id);
        served.delete(m.id);
        lastActive.delete(m.id);
        if (!s) {
          send({ t: "closed", id: m.id });
          break;
        }
        void s.proxy.stop().then(() => {
          // The destroyed connections' close events (which count them out) come a tick later.
          setImmediate(() => {
            report(m.id, s);
            send({ t: "closed", id: m.id });
          });
        });
        break;
      }
    }
  };
  process.on("message", onMessage);
  process.on("disconnect", () => {
    clearInterval(timer);
    process.off("message", onMessage);
    for (const s of served.values()) void s.proxy.stop();
    served.clear();
  });
  // Started after the owner had already gone: nothing will ever arrive.
  if (!process.connected) process.emit("disconnect");
  else send({ t: "ready" });
}
