/**
 * The node agent's streaming service (the kubelet's /exec, /attach and /portForward, over NATS):
 *
 *   berth.node.<node>.stream   {kind, namespace, pod, container?, command?, stdin?, tty?, port?, sessionId}
 *                              → {ok:true} once the session is open, or a Status
 *
 * then frames on berth.node.<node>.streamio.<sessionId>.{up,down} (runtime/stream/session.ts).
 * exec/attach: channel 0 stdin, 1 stdout, 2 stderr, RESIZE for a TTY, and a STATUS with the exit
 * code at the end. portforward: channel 0 carries a TCP connection to the pod's IP and port.
 *
 * Whichever end goes away, the other is torn down: the requester's END (or its silence) kills
 * the exec'd process and closes the TCP connection; the process's exit or the connection's close
 * ends the session. Every session unsubscribes when it ends. A node agent that dies takes its
 * sessions with it but not their processes: the next one kills them before it serves a session
 * (`reapStreamExecs`).
 */
import { connect, type Socket } from "node:net";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { ApiClient } from "../../model/client.ts";
import { type ContainerRuntime, type ExecStream, LABELS } from "../../model/container_runtime.ts";
import { ApiError, BadRequestError, toStatus } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";
import { checkJsonNesting } from "../security/nesting.ts";
import { isInboxSubject, isToken, subjects } from "../subjects.ts";
import { exitStatus, failureStatus } from "../stream/frames.ts";
import type { NodeStreamOpen } from "../stream/open.ts";
import { StreamSession } from "../stream/session.ts";
import { findPodContainer } from "./pod_containers.ts";

const enc = new TextEncoder();

/** Serves stream sessions for `nodeName`'s pods until `stop()` (which ends every open session). */
export function serveNodeStreams(nc: NatsConnection, opts: {
  nodeName: string;
  runtime: ContainerRuntime;
  client: ApiClient;
  window?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}): {
  stop(): void;
  /** Sessions open now (for tests and diagnostics). */
  open(): number;
} {
  const { nodeName, runtime, client } = opts;
  const sessions = new Set<StreamSession>();
  const reaped = reapLeftovers(runtime, nodeName, opts.log);
  const sub: Subscription = nc.subscribe(subjects.node(nodeName, "stream"), {
    callback: (_e, m) => {
      if (!m.reply || !isInboxSubject(m.reply)) return;
      const answer = (body: unknown) => {
        try {
          m.respond(enc.encode(JSON.stringify(body)));
        } catch {
          // The connection is closing; the requester times out and says so.
        }
      };
      start(m.data).then(
        (s) => {
          sessions.add(s);
          void s.done.then(() => sessions.delete(s));
          answer({ ok: true });
        },
        (e) => answer(toStatus(e instanceof ApiError ? e : e instanceof Error && e.name === "PodContainerNotFoundError" ? new ApiError("NotFound", e.message) : e)),
      );
    },
  });

  async function start(data: Uint8Array): Promise<StreamSession> {
    const req = parseOpen(data);
    await reaped;
    const pod = await client.get("pods", req.pod, req.namespace);
    if (pod.spec.nodeName !== nodeName) throw new ApiError("BadRequest", `pod ${pod.metadata.name} is not running on node ${nodeName}`);
    const session = () =>
      new StreamSession(nc, {
        sendSubject: subjects.nodeStreamIo(nodeName, req.sessionId, "down"),
        recvSubject: subjects.nodeStreamIo(nodeName, req.sessionId, "up"),
        window: opts.window,
      });
    if (req.kind === "portforward") return portForward(pod, req.port!, session);
    const id = await findPodContainer(runtime, pod, req.container);
    let proc: ExecStream;
    if (req.kind === "exec") {
      if (!runtime.execStream) throw new ApiError("BadRequest", `the ${runtime.kind} runtime of node ${nodeName} cannot stream exec`);
      proc = await runtime.execStream(id, req.command!, { stdin: !!req.stdin, tty: !!req.tty });
    } else {
      if (!runtime.attach) throw new ApiError("BadRequest", `the ${runtime.kind} runtime of node ${nodeName} cannot attach`);
      proc = await runtime.attach(id, { stdin: !!req.stdin, tty: !!req.tty });
    }
    const s = session();
    bridgeProcess(s, proc, req.kind === "exec" ? req.command! : undefined);
    return s;
  }

  return {
    stop() {
      sub.unsubscribe();
      for (const s of sessions) s.end("the node agent is stopping");
    },
    open: () => sessions.size,
  };
}

/** Kills the streaming execs a previous agent of this node left running in its containers. */
async function reapLeftovers(runtime: ContainerRuntime, nodeName: string, log?: (msg: string, fields: Record<string, unknown>) => void): Promise<void> {
  if (!runtime.reapStreamExecs) return;
  try {
    const running = (await runtime.listContainers({ [LABELS.node]: nodeName })).filter((c) => c.state === "running").map((c) => c.id);
    const n = await runtime.reapStreamExecs(running);
    if (n) log?.("killed streaming execs left by a previous agent", { node: nodeName, count: n });
  } catch (e) {
    // Absorbed: sessions are still served; what was left keeps running, as before this agent.
    log?.("could not look for streaming execs left by a previous agent", { node: nodeName, error: (e as Error).message });
  }
}

/** Wires an exec/attach process to its session, both ways, and ends each with the other. */
export function bridgeProcess(s: StreamSession, proc: ExecStream, command: string[] | undefined): void {
  proc.onOutput((c) => {
    proc.pause();
    s.send(c.stream === "stderr" ? 2 : 1, c.data).then(() => proc.resume(), () => {});
  });
  s.handlers = {
    onData: (ch, data) => (ch === 0 ? proc.write(data) : undefined),
    onClose: (ch) => (ch === 0 ? proc.closeStdin() : undefined),
    onResize: (w, h) => void proc.resize(w, h),
    onEnd: () => void proc.kill(),
  };
  void proc.exited.then(async (code) => {
    if (s.isEnded) return;
    await s.status(command ? exitStatus(command, code) : code === 0 ? { metadata: {}, status: "Success" } : exitStatus(["attach"], code));
    s.end("the process exited", true);
  });
}

/** Connects to the pod's port; a refusal is the open request's error, as the kubelet's. */
async function portForward(pod: Pod, port: number, session: () => StreamSession): Promise<StreamSession> {
  const ip = pod.status?.podIP;
  const what = `error forwarding port ${port} to pod ${pod.metadata.name}, uid ${pod.metadata.uid ?? ""}`;
  if (!ip) throw new ApiError("BadRequest", `${what}: the pod has no IP address yet`);
  const sock = await new Promise<Socket>((resolve, reject) => {
    const c = connect({ host: ip, port });
    c.setTimeout(10_000, () => c.destroy(new Error("i/o timeout")));
    c.once("connect", () => {
      c.setTimeout(0);
      resolve(c);
    });
    c.once("error", (e: NodeJS.ErrnoException) =>
      reject(new ApiError("InternalError", `${what}: dial tcp ${ip}:${port}: connect: ${e.code === "ECONNREFUSED" ? "connection refused" : e.message}`)));
  });
  const s = session();
  bridgeSocket(s, sock, what);
  return s;
}

/** Wires a TCP connection to a port-forward session, both ways, and ends each with the other. */
export function bridgeSocket(s: StreamSession, sock: Socket, what: string): void {
  sock.setNoDelay(true);
  sock.on("data", (d: Buffer) => {
    sock.pause();
    s.send(0, new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).then(() => sock.resume(), () => {});
  });
  sock.on("end", () => s.close(0));
  sock.on("error", (e) => {
    void s.status(failureStatus(`${what}: ${e.message}`));
  });
  sock.on("close", () => s.end("the pod closed the connection", true));
  s.handlers = {
    onData: (ch, data) =>
      ch === 0
        ? new Promise<void>((resolve) => {
          if (sock.destroyed || sock.writableEnded) return resolve();
          sock.write(data, () => resolve());
        })
        : undefined,
    onClose: (ch) => {
      if (ch === 0 && !sock.destroyed) sock.end();
    },
    onEnd: () => void sock.destroy(),
  };
}

function parseOpen(data: Uint8Array): NodeStreamOpen {
  const text = new TextDecoder().decode(data);
  checkJsonNesting(text, "the request body");
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BadRequestError("request body must be a JSON object");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new BadRequestError("request body must be a JSON object");
  const str = (k: string, needed: boolean): string | undefined => {
    const x = v[k];
    if (x === undefined || x === null) {
      if (needed) throw new BadRequestError(`field "${k}" is required`);
      return undefined;
    }
    if (typeof x !== "string") throw new BadRequestError(`field "${k}" must be a string`);
    return x;
  };
  const kind = str("kind", true);
  if (kind !== "exec" && kind !== "attach" && kind !== "portforward") throw new BadRequestError(`field "kind" must be exec, attach or portforward, not ${JSON.stringify(kind)}`);
  const sessionId = str("sessionId", true)!;
  if (sessionId.length < 16 || sessionId.length > 64 || !isToken(sessionId)) throw new BadRequestError(`field "sessionId" must be 16-64 characters of [A-Za-z0-9_-]`);
  const command = v.command;
  if (kind === "exec" && (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === "string"))) {
    throw new BadRequestError(`field "command" must be a non-empty array of strings`);
  }
  const port = v.port;
  if (kind === "portforward" && (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)) throw new BadRequestError(`field "port" must be a port number 1-65535`);
  return {
    kind,
    sessionId,
    namespace: str("namespace", false) ?? "default",
    pod: str("pod", true)!,
    container: str("container", false),
    command: command as string[] | undefined,
    stdin: v.stdin === true,
    tty: v.tty === true,
    port: port as number | undefined,
  };
}
