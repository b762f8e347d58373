/**
 * The berth CLI's streaming verbs, over the same NATS stream sessions the REST API uses for
 * kubectl (runtime/stream/): `exec [-i] [-t]`, `attach`, `cp` (a file, in either direction) and
 * `port-forward`.
 */
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import type { ApiClient } from "../../model/client.ts";
import { bridgeSocket } from "../kubelet/stream_service.ts";
import { openNodeStream, resolveStreamTarget, type StreamRequest } from "../stream/open.ts";
import type { StreamSession } from "../stream/session.ts";
import { UsageError, type Command, type FlagSpec } from "./args.ts";
import type { Connection } from "./connect.ts";

type Out = (s: string) => void;
type WithClient = <T>(flags: Record<string, unknown>, fn: (c: ApiClient, conn: Connection) => Promise<T>) => Promise<T>;

/** The exit code a finished session's Status stands for (kubectl's rule). */
export function exitCodeOf(status: Record<string, unknown> | undefined, why?: string): { code: number; message?: string } {
  if (!status) return { code: 1, message: `the stream ended without a status${why ? ` (${why})` : ""}` };
  if (status.status === "Success") return { code: 0 };
  const causes = (status.details as { causes?: { reason?: string; message?: string }[] } | undefined)?.causes ?? [];
  const exit = causes.find((c) => c.reason === "ExitCode");
  if (status.reason === "NonZeroExitCode" && exit && /^\d+$/.test(exit.message ?? "")) return { code: Number(exit.message) };
  return { code: 1, message: String(status.message ?? "the command failed") };
}

/**
 * Runs an exec/attach session against this process's stdio; resolves with the exit code.
 * Output is acknowledged once written, so a slow terminal slows the command, not memory.
 */
async function interactive(session: StreamSession, opts: { stdin: boolean; tty: boolean }, err: Out): Promise<number> {
  let status: Record<string, unknown> | undefined;
  const write = (stream: NodeJS.WriteStream, d: Uint8Array) => new Promise<void>((r) => void stream.write(d, () => r()));
  session.handlers = {
    onData: (ch, d) => write(ch === 2 ? process.stderr : process.stdout, d),
    onStatus: (s) => (status = s),
  };
  const stdin = process.stdin;
  const raw = opts.tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const resize = () => session.resize(process.stdout.columns ?? 80, process.stdout.rows ?? 24);
  if (opts.tty) {
    resize();
    process.stdout.on("resize", resize);
  }
  if (opts.stdin) {
    stdin.on("data", (d: Buffer) => {
      stdin.pause();
      session.send(0, new Uint8Array(d)).then(() => stdin.resume(), () => {});
    });
    stdin.on("end", () => session.close(0));
  }
  let why: string;
  try {
    why = await session.done;
  } finally {
    if (raw) stdin.setRawMode(false);
    process.stdout.off("resize", resize);
    stdin.pause();
    stdin.destroy();
  }
  const r = exitCodeOf(status, why);
  if (r.message) err(`berth: ${r.message}\n`);
  return r.code;
}

async function open(c: ApiClient, conn: Connection, req: StreamRequest): Promise<StreamSession> {
  return openNodeStream(conn.nc, await resolveStreamTarget(c, req), req);
}

export function streamCommands(connFlags: FlagSpec[], out: Out, err: Out, withClient: WithClient): Record<string, Command> {
  const ns = (flags: Record<string, unknown>) => flags.namespace as string | undefined;
  const pod = (positional: string[], usage: string) => {
    if (!positional[0]) throw new UsageError(`give the pod's name: ${usage}`);
    return positional[0];
  };
  return {
    exec: {
      summary: "run a command in a pod's container (-i: pass stdin, -t: a terminal)",
      usage: "berth exec POD [-c CONTAINER] [-i] [-t] -- COMMAND [ARGS...]",
      flags: [
        ...connFlags,
        { name: "container", short: "c", type: "string", help: "container name (default: the first)" },
        { name: "stdin", short: "i", type: "boolean", help: "pass this terminal's stdin to the command" },
        { name: "tty", short: "t", type: "boolean", help: "give the command a terminal" },
      ],
      async run(p) {
        const name = pod(p.positional, "berth exec POD -- COMMAND");
        if (!p.rest.length) throw new UsageError("give the command after --, e.g. berth exec web -- ls /");
        const stdin = !!p.flags.stdin;
        const tty = !!p.flags.tty;
        return await withClient(p.flags, async (c, conn) =>
          interactive(await open(c, conn, { kind: "exec", namespace: ns(p.flags), pod: name, container: p.flags.container as string | undefined, command: p.rest, stdin, tty }), { stdin, tty }, err));
      },
    },
    attach: {
      summary: "attach to the main process of a pod's container",
      usage: "berth attach POD [-c CONTAINER] [-i] [-t]",
      flags: [
        ...connFlags,
        { name: "container", short: "c", type: "string", help: "container name (default: the first)" },
        { name: "stdin", short: "i", type: "boolean", help: "pass stdin to the process (if it keeps stdin open)" },
        { name: "tty", short: "t", type: "boolean", help: "the container has a terminal" },
      ],
      async run(p) {
        const name = pod(p.positional, "berth attach POD");
        const stdin = !!p.flags.stdin;
        const tty = !!p.flags.tty;
        return await withClient(p.flags, async (c, conn) =>
          interactive(await open(c, conn, { kind: "attach", namespace: ns(p.flags), pod: name, container: p.flags.container as string | undefined, stdin, tty }), { stdin, tty }, err));
      },
    },
    cp: {
      summary: "copy a file into or out of a pod's container",
      usage: "berth cp LOCAL_FILE POD:PATH | berth cp POD:PATH LOCAL_FILE [-c CONTAINER]",
      flags: [...connFlags, { name: "container", short: "c", type: "string", help: "container name (default: the first)" }],
      async run(p) {
        const [src, dst] = p.positional;
        if (!src || !dst || p.positional.length !== 2) throw new UsageError("give a source and a destination, one of them POD:PATH");
        const remote = (s: string) => /^[a-z0-9][a-z0-9.-]*:/.exec(s) ? { pod: s.slice(0, s.indexOf(":")), path: s.slice(s.indexOf(":") + 1) } : undefined;
        const from = remote(src);
        const to = remote(dst);
        if (!!from === !!to) throw new UsageError("exactly one of the source and the destination must be POD:PATH");
        const container = p.flags.container as string | undefined;
        return await withClient(p.flags, async (c, conn) => {
          if (to) {
            if (!statSync(src).isFile()) throw new UsageError(`${src} is not a regular file (berth cp copies one file)`);
            const s = await open(c, conn, { kind: "exec", namespace: ns(p.flags), pod: to.pod, container, command: ["sh", "-c", 'cat > "$0"', to.path], stdin: true });
            let status: Record<string, unknown> | undefined;
            s.handlers = { onStatus: (st) => (status = st), onData: (_ch, d) => void process.stderr.write(d) };
            const file = createReadStream(src);
            file.on("data", (d) => {
              file.pause();
              s.send(0, new Uint8Array(d as Buffer)).then(() => file.resume(), () => {});
            });
            file.on("end", () => s.close(0));
            // (Awaited first: the arguments are read left to right, and `status` arrives meanwhile.)
            const why = await s.done;
            const r = exitCodeOf(status, why);
            if (r.code !== 0) throw new Error(`copying to ${to.pod}:${to.path} failed: ${r.message ?? `exit code ${r.code}`}`);
            return 0;
          }
          const s = await open(c, conn, { kind: "exec", namespace: ns(p.flags), pod: from!.pod, container, command: ["cat", from!.path] });
          const file = createWriteStream(dst);
          let status: Record<string, unknown> | undefined;
          let stderr = "";
          s.handlers = {
            onData: (ch, d) => (ch === 2 ? void (stderr += Buffer.from(d).toString()) : new Promise<void>((r) => file.write(d, () => r()))),
            onStatus: (st) => (status = st),
          };
          const why = await s.done;
          await new Promise<void>((r) => file.end(() => r()));
          const r = exitCodeOf(status, why);
          if (r.code !== 0) throw new Error(`copying ${from!.pod}:${from!.path} failed: ${stderr.trim() || r.message || `exit code ${r.code}`}`);
          return 0;
        });
      },
    },
    "port-forward": {
      summary: "forward a local port to a pod's port until interrupted",
      usage: "berth port-forward POD [LOCAL_PORT:]REMOTE_PORT [--address 127.0.0.1]",
      flags: [...connFlags, { name: "address", type: "string", help: "local address to listen on", default: "127.0.0.1" }],
      async run(p) {
        const name = pod(p.positional, "berth port-forward POD LOCAL:REMOTE");
        const spec = p.positional[1];
        const m = spec ? /^(?:(\d+):)?(\d+)$/.exec(spec) : null;
        if (!m) throw new UsageError("give the ports as LOCAL:REMOTE or REMOTE, e.g. 8080:80");
        const remotePort = Number(m[2]);
        const localPort = m[1] === undefined ? remotePort : Number(m[1]);
        await withClient(p.flags, async (c, conn) => {
          const target = await resolveStreamTarget(c, { kind: "portforward", namespace: ns(p.flags), pod: name, port: remotePort });
          const server = createServer((sock: Socket) => {
            sock.pause();
            openNodeStream(conn.nc, target, { kind: "portforward", namespace: ns(p.flags), pod: name, port: remotePort }).then(
              (s) => {
                bridgeSocket(s, sock, `port-forward to ${name}:${remotePort}`);
                s.handlers.onStatus = (st) => err(`berth: ${String(st.message ?? "port-forward failed")}\n`);
                sock.resume();
              },
              (e: Error) => {
                err(`berth: ${e.message}\n`);
                sock.destroy();
              },
            );
          });
          await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(localPort, p.flags.address as string, () => resolve());
          });
          const addr = server.address() as { address: string; port: number };
          out(`Forwarding from ${addr.address}:${addr.port} -> ${remotePort}\n`);
          await new Promise<void>((r) => {
            process.once("SIGINT", r);
            process.once("SIGTERM", r);
          });
          server.close();
        });
      },
    },
  };
}
