/**
 * UDP on libuv's handle directly (Node's `udp_wrap` binding, what `node:dgram` is built on):
 * the DNS server's hot path. Per reply `dgram.Socket#send` normalises its arguments, checks
 * state, resolves the address and allocates a send request; here a reply is one call with a
 * reused request (replaced only when a send stays pending, which a local socket rarely does).
 * Received datagrams arrive as with dgram (a buffer and the sender's address).
 *
 * A raw handle can also be handed to a worker process as it is (`child.send(msg, handle)`), so
 * several event loops read the same socket (dns_workers.ts).
 *
 * `rawUdpAvailable` is false where the binding is missing (Deno); the server then uses dgram.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
export type UdpHandle = any;

interface Bindings {
  UDP: new () => UdpHandle;
  SendWrap: new () => UdpHandle;
  errname(code: number): string;
}

function load(): Bindings | undefined {
  if ("Deno" in globalThis) return undefined;
  try {
    const bind = (process as unknown as { binding(n: string): any }).binding;
    const udp = bind("udp_wrap");
    const uv = bind("uv");
    if (typeof udp.UDP !== "function" || typeof udp.SendWrap !== "function" || typeof udp.UDP.prototype.recvStart !== "function") return undefined;
    return { UDP: udp.UDP, SendWrap: udp.SendWrap, errname: uv.errname };
  } catch {
    return undefined;
  }
}

const B = load();

export const rawUdpAvailable = B !== undefined;

export function udpError(code: number, what: string): Error {
  let name = String(code);
  try {
    name = B!.errname(code);
  } catch {
    // Keep the number.
  }
  return Object.assign(new Error(`${what} ${name}`), { code: name, errno: code });
}

/** The sender's address, as libuv reports it with each datagram. */
export interface RawRinfo {
  address: string;
  port: number;
  family: string;
}

/** Called per datagram; `nread` < 0 is a receive error (no buffer). */
export type OnDatagram = (nread: number, handle: UdpHandle, buf: Buffer | undefined, rinfo: RawRinfo) => void;

/** Opens and binds a UDP handle; throws with the libuv error name on failure. */
export function bindRawUdp(host: string, port: number): { handle: UdpHandle; port: number } {
  const h = new B!.UDP();
  const v6 = host.includes(":");
  const err = v6 ? h.bind6(host, port, 0) : h.bind(host, port, 0);
  if (err !== 0) {
    h.close();
    throw udpError(err, `bind ${host}:${port}`);
  }
  const out: { port?: number } = {};
  h.getsockname(out);
  h.v6 = v6;
  return { handle: h, port: out.port ?? port };
}

/** Starts delivering datagrams to `onDatagram`. */
export function receive(h: UdpHandle, onDatagram: OnDatagram): void {
  h.onmessage = onDatagram;
  const err = h.recvStart();
  if (err !== 0 && err !== undefined) throw udpError(err, "recvStart");
}

let spare: UdpHandle;
/** The one-buffer list of the next send, reused while sends complete synchronously. */
let spareList: Buffer[] | undefined;

/** `sendRaw` returned this: the datagram is queued and libuv still holds `buf` until it is sent. */
export const SEND_PENDING = 1;

/**
 * Sends one datagram; returns 0 when the kernel took it (so `buf` may be reused at once),
 * `SEND_PENDING` when libuv holds `buf` until it is sent, or a negative libuv error.
 */
export function sendRaw(h: UdpHandle, buf: Buffer, port: number, address: string): number {
  const req = spare ?? new B!.SendWrap();
  spare = undefined;
  const list = spareList ?? [buf];
  spareList = undefined;
  list[0] = buf;
  const r = h.v6 ? h.send6(req, list, 1, port, address, false) : h.send(req, list, 1, port, address, false);
  // r ≥ 1: sent synchronously (length + 1), the request is free again. 0: pending, libuv holds it.
  if (r >= 1) {
    spare = req;
    spareList = list;
    return 0;
  }
  if (r === 0) {
    req.list = list;
    return SEND_PENDING;
  }
  spare = req;
  spareList = list;
  return r;
}

export function closeRaw(h: UdpHandle): Promise<void> {
  return new Promise((resolve) => {
    try {
      h.recvStop();
    } catch {
      // Already stopped.
    }
    h.close(() => resolve());
  });
}
