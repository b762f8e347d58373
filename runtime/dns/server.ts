/**
 * The cluster DNS server: UDP (node:dgram, with a cache of encoded replies in front of dns2) and
 * TCP (dns2 3.1.1), one pair of sockets per listen address (loopback for the host, the berth
 * bridge gateway for pods).
 *
 *   UDP datagram ──▶ answer cache hit (same bytes after the id, zone version unchanged)
 *        │              └─▶ cached reply with this query's id ──▶ send
 *        └ miss ──▶ dns2 parse ──▶ validate ──▶ lookup ──▶ dns2 encode, fit to the UDP size
 *                   (EDNS or 512, else TC=1) ──▶ send, and store in the cache when cacheable
 *   TCP stream ───▶ dns2's pipelined reader ──▶ validate ──▶ lookup ──▶ dns2 encode ──▶ send
 *
 * The cache is on only when the caller says when answers change (`version`, the zone's counter):
 * with a bare `lookup` nothing is cached.
 *
 * Edge validation (REFERENCE.md, dns2 notes): a packet dns2 cannot parse, or that parsed with
 * record errors, carries other than one question, has the response bit set or is not a standard
 * query is dropped without an answer. A lookup that throws answers SERVFAIL, so a client never
 * waits for a reply that will not come.
 *
 * Names: a query inside the cluster domain is answered from `lookup` (NXDOMAIN when unknown).
 * A single label (`backend-service`, what a host resolver without the search list sends) is read
 * as `<label>.<defaultNamespace>.svc.<domain>`; `name.ns` and `name.ns.svc` likewise. Anything
 * else is outside the cluster: there is no upstream (the network rule allows no other address),
 * so it gets REFUSED at once and the client's resolver moves on.
 */
import type { Metrics } from "../../model/metrics.ts";
import { dnsMetrics } from "./dns_metrics.ts";
import dgram from "node:dgram";
import dns from "node:dns";
import net from "node:net";
import dns2 from "dns2";
import { AnswerCache } from "./answer_cache.ts";
import { DnsWorkers } from "./dns_workers.ts";
import { bindRawUdp, closeRaw, rawUdpAvailable, receive, sendRaw, udpError, type UdpHandle } from "./raw_udp.ts";
import type { DnsAnswer, QueryType } from "./zone.ts";

const { Packet, TCPServer } = dns2;
type DnsPacket = InstanceType<typeof Packet>;

/** Where to listen. Port 0 picks a free port (the same one for UDP and TCP). */
export interface DnsListenAddress {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  addresses: DnsListenAddress[];
  /** Answers for a fully qualified name in the cluster domain, or "NXDOMAIN". May throw. */
  lookup: (name: string, type: QueryType) => DnsAnswer[] | "NXDOMAIN";
  /**
   * A counter that changes whenever `lookup` may answer differently (`DnsZone.version`). Given,
   * UDP replies are cached by query bytes until it changes; absent, nothing is cached.
   */
  version?: () => number;
  domain?: string;
  /** Namespace for single-label names. */
  defaultNamespace?: string;
  /** Called for dropped packets and lookup failures (counted, never thrown). */
  onError?: (err: Error, kind: "malformed" | "dropped" | "lookup" | "socket") => void;
  /** CoreDNS-named request metrics (runtime/dns/dns_metrics.ts); none by default. */
  metrics?: Metrics;
  /**
   * Worker processes that read the same UDP sockets and answer cached questions (dns_workers.ts):
   * more event loops for query floods. 0 (the default) answers on this thread only; ignored
   * without `version` (no cache) or where raw handles are missing (Deno).
   */
  workers?: number;
  /**
   * The UDP path: "auto" (default) uses a raw libuv handle where Node has the binding and
   * node:dgram elsewhere (Deno); "dgram" always uses node:dgram (tests run both).
   */
  udp?: "auto" | "dgram";
}

/** Counters; `received` counts every datagram/message seen, parsed or not; `answered` the replies sent. */
export interface DnsServerStats {
  received: number;
  answered: number;
  dropped: number;
  servfail: number;
  /** UDP replies served from the answer cache (included in `answered`). */
  cacheHits: number;
  /** Of those, the ones worker processes sent (reported every 200 ms). */
  workerHits: number;
}

export interface DnsServer {
  /** The bound addresses, with the actual ports. */
  addresses: DnsListenAddress[];
  /** Process ids of the worker processes (empty without workers). */
  workerPids: number[];
  stats: DnsServerStats;
  close(): Promise<void>;
}

/** A DNS listener could not be opened. */
export class DnsListenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DnsListenError";
  }
}

const TYPE_NAME: Record<number, string> = Packet.TYPE_NAME;

/** RFC 1035 §4.2.1: UDP replies without EDNS are capped at 512 bytes. */
const UDP_LIMIT = 512;
/** The UDP payload we accept at most, whatever a client offers (a loopback/bridge MTU is larger, but
 * replies this big are not ours to send: a few A records per name). */
const UDP_MAX = 4096;

/** The UDP size a request allows: its EDNS OPT payload size (at least 512), else 512 (RFC 6891 §6.2.3). */
function udpPayloadSize(request: DnsPacket): number {
  const opt = request.additionals.find((r) => r && r.type === Packet.TYPE.EDNS) as { class?: number } | undefined;
  if (!opt) return UDP_LIMIT;
  return Math.min(Math.max(opt.class ?? 0, UDP_LIMIT), UDP_MAX);
}

/**
 * Encodes a reply for UDP within `maxBytes`: if it does not fit, the header with TC=1 and the
 * question only, so the client retries over TCP (RFC 1035 §4.2.1, RFC 2181 §9). As dns2's UDP
 * server does; kept here because the encoded bytes are what the answer cache stores.
 */
export function encodeForUdp(reply: DnsPacket, maxBytes: number): Buffer {
  const full = reply.toBuffer();
  if (full.length <= maxBytes) return full;
  const truncated = new Packet();
  truncated.header = new Packet.Header(reply.header);
  truncated.header.tc = 1;
  truncated.questions = reply.questions.slice();
  const opt = reply.additionals.find((r) => r && r.type === Packet.TYPE.EDNS);
  // Keep the OPT record: an EDNS client expects one in every reply (RFC 6891 §7).
  if (opt) truncated.additionals = [opt];
  const buf = truncated.toBuffer();
  return buf.length > maxBytes ? buf.subarray(0, maxBytes) : buf;
}

/**
 * Sends one reply datagram to `port`/`address`; returns true when the bytes were copied out at
 * once (`buf` may be reused). `inPlace`: this sender can say so (the raw path; dgram cannot).
 */
type UdpSender = ((buf: Buffer, port: number, address: string) => boolean) & { inPlace?: boolean };

/** A `lookup` for dgram that takes an IP literal as it is, synchronously; names go to dns.lookup. */
function ipLiteral(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  const v = net.isIP(address);
  if (v !== 0) callback(null, address, v);
  else dns.lookup(address, family as number, callback as never);
}

function bindUdp(sock: dgram.Socket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    sock.once("error", onErr);
    sock.bind(port, host, () => {
      sock.off("error", onErr);
      resolve(sock.address().port);
    });
  });
}

function listenTcp(srv: InstanceType<typeof TCPServer>, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onErr = (e: Error) => reject(e);
    srv.once("error", onErr);
    srv.listen(port, host, () => {
      srv.off("error", onErr);
      resolve();
    });
  });
}

/** Starts the server; resolves once every address listens on UDP and TCP. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const domain = (opts.domain ?? "cluster.local").toLowerCase().replace(/\.$/, "");
  const defaultNs = opts.defaultNamespace ?? "default";
  const stats: DnsServerStats = { received: 0, answered: 0, dropped: 0, servfail: 0, cacheHits: 0, workerHits: 0 };
  const onError = opts.onError ?? (() => {});
  const closers: (() => Promise<void>)[] = [];
  const bound: DnsListenAddress[] = [];
  const version = opts.version;
  const cache = version ? new AnswerCache(version) : undefined;
  let workers: DnsWorkers | undefined;
  /** Each bound UDP socket's raw handle and sender, by address index (for the workers). */
  const udps: { handle?: UdpHandle; send: UdpSender }[] = [];

  /** Maps a query name to an in-zone name; `strict` when an unknown result means "not ours". */
  const qualify = (raw: string): { fqdn: string; strict: boolean } | null => {
    const name = raw.toLowerCase().replace(/\.$/, "");
    if (name === domain || name.endsWith(`.${domain}`)) return { fqdn: name, strict: true };
    const labels = name.split(".");
    if (labels.some((l) => l === "")) return null;
    if (labels.length === 1) return { fqdn: `${name}.${defaultNs}.svc.${domain}`, strict: true };
    if (labels.length === 2) return { fqdn: `${name}.svc.${domain}`, strict: false };
    if (labels.length === 3 && labels[2] === "svc") return { fqdn: `${name}.${domain}`, strict: false };
    return null;
  };

  const toResource = (a: DnsAnswer) =>
    a.type === "A"
      ? { name: a.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: a.ttl, address: a.address }
      : a.type === "CNAME"
      ? { name: a.name, type: Packet.TYPE.CNAME, class: Packet.CLASS.IN, ttl: a.ttl, domain: a.target }
      : {
          name: a.name,
          type: Packet.TYPE.SRV,
          class: Packet.CLASS.IN,
          ttl: a.ttl,
          priority: a.priority,
          weight: a.weight,
          port: a.port,
          target: a.target,
        };

  /**
   * Builds the reply to one validated request. Never throws: a failure becomes SERVFAIL, which
   * is not `cacheable`.
   */
  const answer = (request: DnsPacket): { reply: DnsPacket; cacheable: boolean } => {
    const q = request.questions[0];
    try {
      const qtype = TYPE_NAME[q.type] ?? String(q.type);
      const target = qualify(q.name);
      if (!target) return { reply: Packet.createErrorResponseFromRequest(request, Packet.RCODE.REFUSED), cacheable: true };
      const result = opts.lookup(target.fqdn, qtype);
      if (result === "NXDOMAIN") {
        return { reply: Packet.createErrorResponseFromRequest(request, target.strict ? Packet.RCODE.NXDOMAIN : Packet.RCODE.REFUSED), cacheable: true };
      }
      const res = Packet.createErrorResponseFromRequest(request, Packet.RCODE.NOERROR);
      res.header.aa = 1;
      // Answer under the name that was asked, so a short-name query gets a matching owner name.
      for (const a of result) res.answers.push(toResource({ ...a, name: a.name === target.fqdn ? q.name : a.name }) as never);
      const glued = new Set<string>();
      for (const a of result) {
        if (a.type === "SRV") {
          // The target's addresses ride along (a headless service's SRV targets are its
          // endpoints' names); once per target, though two records may share one.
          if (glued.has(a.target)) continue;
          glued.add(a.target);
          const extra = opts.lookup(a.target, "A");
          if (extra !== "NXDOMAIN") for (const x of extra) res.additionals.unshift(toResource(x) as never);
        } else if (a.type === "CNAME" && qtype !== "CNAME") {
          // An alias of a name in the cluster: the chain's records follow in the answer, as
          // CoreDNS gives them (at most 8 steps, never a name twice). One outside is answered
          // with the CNAME alone (Berth forwards nothing).
          const seen = new Set([target.fqdn]);
          let next = a.target;
          for (let step = 0; step < 8 && next.endsWith(`.${domain}`) && !seen.has(next); step++) {
            seen.add(next);
            const chased = opts.lookup(next, qtype);
            if (chased === "NXDOMAIN") break;
            for (const x of chased) res.answers.push(toResource(x) as never);
            const alias = chased.find((x) => x.type === "CNAME");
            if (!alias || alias.type !== "CNAME") break;
            next = alias.target;
          }
        }
      }
      return { reply: res, cacheable: true };
    } catch (e) {
      stats.servfail++;
      onError(e instanceof Error ? e : new Error(String(e)), "lookup");
      return { reply: Packet.createErrorResponseFromRequest(request, Packet.RCODE.SERVFAIL), cacheable: false };
    }
  };

  /** The reply to a parsed request, or undefined when it is dropped (counted and reported). */
  const respond = (request: DnsPacket): { reply: DnsPacket; cacheable: boolean } | undefined => {
    if (
      request.errors.length > 0 ||
      request.questions.length !== 1 ||
      request.header.qr !== 0 ||
      request.header.opcode !== 0
    ) {
      stats.dropped++;
      onError(new Error("dropped a query that is not a single standard question"), "dropped");
      return undefined;
    }
    try {
      return answer(request);
    } catch (e) {
      // Only reachable if building the error reply itself fails; nothing sane to send.
      stats.dropped++;
      onError(e instanceof Error ? e : new Error(String(e)), "lookup");
      return undefined;
    }
  };

  const measured = dnsMetrics(opts.metrics);
  const handleTcp = (request: DnsPacket, send: (r: DnsPacket) => Promise<Buffer>) => {
    stats.received++;
    const start = measured ? performance.now() : 0;
    const r = respond(request);
    if (!r) return;
    measured?.answered(request.questions[0]?.type, r.reply.header.rcode, start);
    stats.answered++;
    send(r.reply).catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e)), "socket"));
  };
  const onRequestError = (e: Error) => {
    stats.received++;
    stats.dropped++;
    onError(e, "malformed");
  };

  /** One UDP datagram: the cache first, else the full path. Never throws. */
  const handleUdp = (sock: UdpSender, msg: Buffer, rinfo: { port: number; address: string }) => {
    stats.received++;
    const key = cache ? AnswerCache.keyOf(msg) : undefined;
    if (key !== undefined) {
      const hit = cache!.reply(key, msg, sock.inPlace === true);
      if (hit) {
        stats.answered++;
        stats.cacheHits++;
        measured?.cacheHit();
        if (!sock(hit, rinfo.port, rinfo.address) && sock.inPlace) cache!.held(key, hit);
        return;
      }
    }
    const versionAtLookup = version?.() ?? 0;
    const start = measured ? performance.now() : 0;
    let request: DnsPacket;
    try {
      request = Packet.parse(msg);
    } catch (e) {
      onRequestError(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const r = respond(request);
    if (!r) return;
    let buf: Buffer;
    try {
      buf = encodeForUdp(r.reply, udpPayloadSize(request));
    } catch (e) {
      stats.dropped++;
      onError(e instanceof Error ? e : new Error(String(e)), "lookup");
      return;
    }
    stats.answered++;
    measured?.answered(request.questions[0]?.type, r.reply.header.rcode, start);
    sock(buf, rinfo.port, rinfo.address);
    if (key !== undefined && r.cacheable) {
      cache!.store(key, buf, versionAtLookup);
      workers?.entry(key, buf, versionAtLookup);
    }
  };

  /**
   * One UDP socket: a raw libuv handle where the binding is there (raw_udp.ts), node:dgram
   * otherwise. Rejects when the address cannot be bound.
   */
  const openUdp = async (host: string, port: number): Promise<{ port: number; close(): Promise<void>; handle?: UdpHandle; send: UdpSender }> => {
    if (rawUdpAvailable && opts.udp !== "dgram") {
      const { handle, port: actual } = bindRawUdp(host, port);
      const send: UdpSender = (buf, p, a) => {
        const err = sendRaw(handle, buf, p, a);
        if (err < 0) onError(udpError(err, "send"), "socket");
        return err === 0;
      };
      send.inPlace = true;
      receive(handle, (nread, _h, buf, rinfo) => {
        if (nread < 0 || !buf) onError(udpError(nread, "recvmsg"), "socket");
        else handleUdp(send, buf, rinfo);
      });
      return { port: actual, handle, send, close: () => closeRaw(handle) };
    }
    // Replies go to the address a datagram came from, always an IP literal: skip dgram's
    // asynchronous dns.lookup per send (a tick and a closure per reply).
    const sock = dgram.createSocket({ type: host.includes(":") ? "udp6" : "udp4", lookup: ipLiteral });
    // Without a callback a send error is emitted as the socket's "error" (reported below).
    const send: UdpSender = (buf, p, a) => {
      sock.send(buf, p, a);
      return false;
    };
    sock.on("message", (msg, rinfo) => handleUdp(send, msg, rinfo));
    try {
      const actual = await bindUdp(sock, host, port);
      sock.on("error", (e: Error) => onError(e, "socket"));
      return { port: actual, send, close: () => new Promise<void>((r) => sock.close(() => r())) };
    } catch (e) {
      try {
        sock.close();
      } catch {
        // Not bound: nothing to close.
      }
      throw e;
    }
  };

  try {
    for (const addr of opts.addresses) {
      let lastErr: unknown;
      let ok = false;
      // With port 0, the UDP port the kernel picks may be taken on TCP: try a few.
      for (let attempt = 0; attempt < (addr.port === 0 ? 8 : 1) && !ok; attempt++) {
        // Replies go to the address a datagram came from, always an IP literal: skip dgram's
        // asynchronous dns.lookup per send (a tick and a closure per reply).
        const tcp = new TCPServer();
        const conns = new Set<net.Socket>();
        tcp.on("connection", (s: net.Socket) => {
          conns.add(s);
          s.on("close", () => conns.delete(s));
        });
        tcp.on("request", handleTcp as never);
        tcp.on("requestError", onRequestError);
        let udp: Awaited<ReturnType<typeof openUdp>> | undefined;
        try {
          udp = await openUdp(addr.host, addr.port);
          const port = udp.port;
          await listenTcp(tcp, addr.host, port);
          tcp.on("error", (e: Error) => onError(e, "socket"));
          bound.push({ host: addr.host, port });
          udps.push(udp);
          const u = udp;
          closers.push(
            () => u.close(),
            () =>
              new Promise<void>((r) => {
                tcp.close(() => r());
                // Idle pipelined TCP clients would hold close() open for dns2's 10 s idle timeout.
                for (const s of conns) s.destroy();
              }),
          );
          ok = true;
        } catch (e) {
          lastErr = e;
          await udp?.close();
          tcp.close();
        }
      }
      if (!ok) throw new DnsListenError(`cannot listen for DNS on ${addr.host}:${addr.port}`, { cause: lastErr });
    }
  } catch (e) {
    await Promise.all(closers.map((c) => c()));
    throw e;
  }

  const nWorkers = opts.workers ?? 0;
  if (nWorkers > 0 && version && cache && udps.every((u) => u.handle !== undefined)) {
    workers = new DnsWorkers(
      nWorkers,
      udps.map((u) => u.handle),
      {
        miss: (i, msg, port, address) => {
          handleUdp(udps[i].send, msg, { port, address });
          // Answered from this process's cache (stored before that worker was ready, or by an
          // earlier miss): the workers get the reply too, so the next such query stays there.
          const key = AnswerCache.keyOf(msg);
          const reply = key === undefined ? undefined : cache.peek(key);
          if (reply) workers?.entry(key!, reply, version());
        },
        hits: (n) => {
          stats.received += n;
          stats.answered += n;
          stats.cacheHits += n;
          stats.workerHits += n;
          for (let i = 0; i < n && measured; i++) measured.cacheHit();
        },
        version,
        log: (e) => onError(e, "socket"),
      },
    );
  }

  return {
    addresses: bound,
    stats,
    get workerPids() {
      return workers?.pids ?? [];
    },
    async close() {
      const w = workers;
      workers = undefined;
      await w?.close();
      await Promise.all(closers.splice(0).map((c) => c()));
    },
  };
}
