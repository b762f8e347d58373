/**
 * The body of a DNS worker process (dns_workers.ts): reads the owner's UDP sockets, answers
 * from the replies the owner cached, and hands every other datagram to the owner.
 */
import { AnswerCache } from "./answer_cache.ts";
import { closeRaw, receive, SEND_PENDING, sendRaw, type RawRinfo, type UdpHandle } from "./raw_udp.ts";
import type { FromDnsWorker, ToDnsWorker } from "./dns_workers.ts";

const MAX_ENTRIES = 10_000;
const REPORT_MS = 200;

export function runDnsWorker(): void {
  const cache = new Map<string, Buffer>();
  let version = NaN;
  let hits = 0;
  const handles: UdpHandle[] = [];
  const send = (m: FromDnsWorker) => {
    if (process.connected) process.send!(m);
  };
  const setVersion = (v: number) => {
    if (v === version) return;
    version = v;
    cache.clear();
  };
  const onDatagram = (i: number) => (nread: number, h: UdpHandle, buf: Buffer | undefined, rinfo: RawRinfo) => {
    if (nread < 0 || !buf) return;
    const key = AnswerCache.keyOf(buf);
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached) {
      // The stored reply with this query's id written in, sent as it is: a synchronous send copies
      // it into the kernel; one that stays queued keeps it, and the cache moves on to a copy.
      cached[0] = buf[0];
      cached[1] = buf[1];
      if (sendRaw(h, cached, rinfo.port, rinfo.address) === SEND_PENDING) cache.set(key!, Buffer.from(cached));
      hits++;
      return;
    }
    send({ t: "q", i, m: buf.toString("base64"), p: rinfo.port, a: rinfo.address });
  };
  const timer = setInterval(() => {
    if (hits === 0) return;
    send({ t: "stats", hits });
    hits = 0;
  }, REPORT_MS);
  const closeAll = async () => {
    clearInterval(timer);
    await Promise.all(handles.splice(0).map((h) => closeRaw(h)));
  };
  process.on("message", (m: ToDnsWorker, handle?: UdpHandle) => {
    switch (m.t) {
      case "sock":
        if (!handle) return;
        setVersion(m.v);
        handles.push(handle);
        handle.v6 = false;
        try {
          const out: { family?: string } = {};
          handle.getsockname(out);
          handle.v6 = out.family === "IPv6";
        } catch {
          // Keep IPv4.
        }
        receive(handle, onDatagram(m.i));
        break;
      case "flush":
        setVersion(m.v);
        break;
      case "entry":
        if (m.v !== version) break;
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(m.k, Buffer.from(m.r, "base64"));
        break;
      case "close":
        void closeAll().then(() => {
          if (hits) send({ t: "stats", hits });
          hits = 0;
          send({ t: "closed" });
        });
        break;
    }
  });
  process.on("disconnect", () => void closeAll());
  if (!process.connected) return;
  send({ t: "ready" });
}
