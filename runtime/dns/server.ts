/**
 * The cluster DNS server: dns2 3.1.1 on UDP and TCP, one pair of sockets per listen address
 * (loopback for the host, the berth bridge gateway for pods).
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
import dns2 from "dns2";
import type { DnsAnswer, QueryType } from "./zone.ts";

const { Packet, UDPServer, TCPServer } = dns2;
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
  domain?: string;
  /** Namespace for single-label names. */
  defaultNamespace?: string;
  /** Called for dropped packets and lookup failures (counted, never thrown). */
  onError?: (err: Error, kind: "malformed" | "dropped" | "lookup" | "socket") => void;
}

export interface DnsServer {
  /** The bound addresses, with the actual ports. */
  addresses: DnsListenAddress[];
  /** `received` counts every datagram/message seen, parsed or not; `answered` the replies sent. */
  stats: { received: number; answered: number; dropped: number; servfail: number };
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

function bindUdp(sock: InstanceType<typeof UDPServer>, host: string, port: number): Promise<number> {
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
  const stats = { received: 0, answered: 0, dropped: 0, servfail: 0 };
  const onError = opts.onError ?? (() => {});
  const closers: (() => Promise<void>)[] = [];
  const bound: DnsListenAddress[] = [];

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

  /** Builds the reply to one validated request. Never throws: a failure becomes SERVFAIL. */
  const answer = (request: DnsPacket): DnsPacket => {
    const q = request.questions[0];
    try {
      const qtype = TYPE_NAME[q.type] ?? String(q.type);
      const target = qualify(q.name);
      if (!target) return Packet.createErrorResponseFromRequest(request, Packet.RCODE.REFUSED);
      const result = opts.lookup(target.fqdn, qtype);
      if (result === "NXDOMAIN") {
        return Packet.createErrorResponseFromRequest(request, target.strict ? Packet.RCODE.NXDOMAIN : Packet.RCODE.REFUSED);
      }
      const res = Packet.createErrorResponseFromRequest(request, Packet.RCODE.NOERROR);
      res.header.aa = 1;
      // Answer under the name that was asked, so a short-name query gets a matching owner name.
      for (const a of result) res.answers.push(toResource({ ...a, name: a.name === target.fqdn ? q.name : a.name }) as never);
      for (const a of result) {
        if (a.type !== "SRV") continue;
        const extra = opts.lookup(a.target, "A");
        if (extra !== "NXDOMAIN") for (const x of extra) res.additionals.unshift(toResource(x) as never);
      }
      return res;
    } catch (e) {
      stats.servfail++;
      onError(e instanceof Error ? e : new Error(String(e)), "lookup");
      return Packet.createErrorResponseFromRequest(request, Packet.RCODE.SERVFAIL);
    }
  };

  const handle = (request: DnsPacket, send: (r: DnsPacket) => Promise<Buffer>) => {
    stats.received++;
    if (
      request.errors.length > 0 ||
      request.questions.length !== 1 ||
      request.header.qr !== 0 ||
      request.header.opcode !== 0
    ) {
      stats.dropped++;
      onError(new Error("dropped a query that is not a single standard question"), "dropped");
      return;
    }
    let reply: DnsPacket;
    try {
      reply = answer(request);
    } catch (e) {
      // Only reachable if building the error reply itself fails; nothing sane to send.
      stats.dropped++;
      onError(e instanceof Error ? e : new Error(String(e)), "lookup");
      return;
    }
    stats.answered++;
    send(reply).catch((e: unknown) => onError(e instanceof Error ? e : new Error(String(e)), "socket"));
  };
  const onRequestError = (e: Error) => {
    stats.received++;
    stats.dropped++;
    onError(e, "malformed");
  };

  try {
    for (const addr of opts.addresses) {
      let lastErr: unknown;
      let ok = false;
      // With port 0, the UDP port the kernel picks may be taken on TCP: try a few.
      for (let attempt = 0; attempt < (addr.port === 0 ? 8 : 1) && !ok; attempt++) {
        const udp = new UDPServer({ type: addr.host.includes(":") ? "udp6" : "udp4" });
        const tcp = new TCPServer();
        const conns = new Set<import("node:net").Socket>();
        tcp.on("connection", (s: import("node:net").Socket) => {
          conns.add(s);
          s.on("close", () => conns.delete(s));
        });
        udp.on("request", handle as never);
        tcp.on("request", handle as never);
        udp.on("requestError", onRequestError);
        tcp.on("requestError", onRequestError);
        try {
          const port = await bindUdp(udp, addr.host, addr.port);
          await listenTcp(tcp, addr.host, port);
          udp.on("error", (e: Error) => onError(e, "socket"));
          tcp.on("error", (e: Error) => onError(e, "socket"));
          bound.push({ host: addr.host, port });
          closers.push(
            () => new Promise<void>((r) => udp.close(() => r())),
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
          try {
            udp.close();
          } catch {
            // Not bound yet: nothing to close.
          }
          tcp.close();
        }
      }
      if (!ok) throw new DnsListenError(`cannot listen for DNS on ${addr.host}:${addr.port}`, { cause: lastErr });
    }
  } catch (e) {
    await Promise.all(closers.map((c) => c()));
    throw e;
  }

  return {
    addresses: bound,
    stats,
    async close() {
      await Promise.all(closers.splice(0).map((c) => c()));
    },
  };
}
