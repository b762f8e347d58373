/**
 * Node's libuv TCP handle bindings (`tcp_wrap`, `stream_wrap`, `uv` through `process.binding`,
 * on its allow-list in Node 20; what `net` itself is built on), for the two places that skip
 * `net.Socket` for speed: the proxy's connections (runtime/proxy/raw_forward.ts) and the read
 * commands' NATS connection (runtime/nats/lite_wire.ts). Undefined where they are missing (Deno,
 * a future Node without them): callers fall back to `net`. Loaded once, on first use.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Handle = any;

export interface TcpBindings {
  TCP: new (type: number) => Handle;
  TCPConnectWrap: new () => Handle;
  WriteWrap: new () => Handle;
  ShutdownWrap: new () => Handle;
  SOCKET: number;
  state: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
  UV_EOF: number;
  errname(code: number): string;
}

let loaded: TcpBindings | undefined | null = null;

export function loadTcpBindings(): TcpBindings | undefined {
  if (loaded !== null) return loaded;
  loaded = undefined;
  if ("Deno" in globalThis) return loaded;
  try {
    const bind = (process as unknown as { binding(n: string): any }).binding;
    const tcp = bind("tcp_wrap");
    const stream = bind("stream_wrap");
    const uv = bind("uv");
    if (typeof tcp.TCP !== "function" || typeof tcp.TCP.prototype.useUserBuffer !== "function" || !stream.streamBaseState) return loaded;
    loaded = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      ShutdownWrap: stream.ShutdownWrap,
      SOCKET: tcp.constants.SOCKET,
      state: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
      kLastWriteWasAsync: stream.kLastWriteWasAsync,
      UV_EOF: uv.UV_EOF,
      errname: (code) => uv.errname(code),
    };
  } catch {
    loaded = undefined;
  }
  return loaded;
}
