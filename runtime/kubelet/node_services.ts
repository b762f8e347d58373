/**
 * What a node agent answers besides the API: container logs and exec for the pods it runs, on
 * its own node-scoped subjects (the kubelet's `/containerLogs` and `/exec`, over NATS):
 *
 *   berth.node.<node>.logs   {namespace, pod, container?, follow?, tail?, streamId}
 *                            → reply {ok:true} then chunks {stream, data(base64)} published to
 *                              berth.node.<node>.logstream.<streamId> (the requester subscribed
 *                              first), ended by {end:true} (or {error}); while following, the
 *                              requester renews with berth.node.<node>.logs.keepalive {streamId}.
 *   berth.node.<node>.exec   {namespace, pod, container?, command: string[], timeoutMs?}
 *                            → reply {exitCode, stdout, stderr}
 *
 * Errors reply with a Kubernetes Status, like the API. A node publishes only under its own
 * subjects and answers each request once: it never publishes into a requester's inbox beyond
 * that one reply (its identity has no `_INBOX.>` right), so it cannot forge answers to the
 * requester's other pending requests. Replies go only to inbox subjects (isInboxSubject).
 */
import { checkJsonNesting } from "../security/nesting.ts";
import type { LogProvider } from "../../model/client.ts";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import type { ApiClient } from "../../model/client.ts";
import { ApiError, BadRequestError, fromStatus, isStatus, toStatus } from "../../model/errors.ts";
import type { Log } from "../../model/log.ts";
import type { Pod } from "../../model/types.ts";
import type { ContainerRuntime } from "../../model/container_runtime.ts";
import { podExec, podLogs } from "./pod_containers.ts";
import { isInboxSubject, isToken, subjects } from "../subjects.ts";
import { serveNodeStreams } from "./stream_service.ts";

const enc = new TextEncoder();

/** A log stream id: one subject token, long enough to be unguessable (a nuid is 22 characters). */
function streamIdOf(body: Record<string, unknown>): string {
  const v = body.streamId;
  if (typeof v !== "string" || v.length < 16 || v.length > 64 || !isToken(v)) {
    throw new BadRequestError(`field "streamId" must be 16-64 characters of [A-Za-z0-9_-] (the log stream goes to berth.node.<node>.logstream.<streamId>)`);
  }
  return v;
}

/** A request whose reply subject is not an inbox is neither answered nor carried out. */
function unanswerable(m: Msg): boolean {
  return !m.reply || !isInboxSubject(m.reply);
}

/** Answers a request once, and only to an inbox (see isInboxSubject). */
function reply(m: Msg, body: unknown): void {
  if (unanswerable(m)) return;
  try {
    m.respond(enc.encode(JSON.stringify(body)));
  } catch {
    // The connection is closing; the requester times out and says so.
  }
}

function field(body: Record<string, unknown>, name: string, needed: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (needed) throw new BadRequestError(`field "${name}" is required`);
    return undefined;
  }
  if (typeof v !== "string") throw new BadRequestError(`field "${name}" must be a string`);
  return v;
}

/** Serves logs and exec for `nodeName`'s pods until `stop()`. */
export function serveNodeServices(nc: NatsConnection, opts: { nodeName: string; runtime: ContainerRuntime; client: ApiClient; log?: Log }): { stop(): void } {
  const { nodeName, runtime, client } = opts;
  const subs: Subscription[] = [];
  // exec/attach/port-forward sessions (stream_service.ts) share the node's lifetime.
  const streams = serveNodeStreams(nc, { nodeName, runtime, client, log: opts.log });
  /** Followed streams by id, renewed by keep-alives. */
  const follows = new Map<string, { expires: number; close(): void }>();
  /** Every stream being sent, followed or not (an id names one stream at a time). */
  const active = new Set<string>();

  const podFor = async (body: Record<string, unknown>): Promise<Pod> => {
    const pod = await client.get("pods", field(body, "pod", true)!, field(body, "namespace", false) ?? "default");
    if (pod.spec.nodeName !== nodeName) throw new ApiError("BadRequest", `pod ${pod.metadata.name} is not running on node ${nodeName}`);
    return pod;
  };
  const parse = (data: Uint8Array): Record<string, unknown> => {
    const text = new TextDecoder().decode(data);
    // Refused before the parser runs: a deeply nested body must not cost the node its stack.
    checkJsonNesting(text, "the request body");
    try {
      const v = JSON.parse(text);
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new BadRequestError("request body must be a JSON object");
  };

  subs.push(nc.subscribe(subjects.node(nodeName, "exec"), {
    callback: (_e, m) => {
      if (unanswerable(m)) return;
      (async () => {
        const body = parse(m.data);
        const cmd = body.command;
        if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((c) => typeof c === "string")) {
          throw new BadRequestError(`field "command" must be a non-empty array of strings`);
        }
        const timeoutMs = typeof body.timeoutMs === "number" ? body.timeoutMs : 60_000;
        return await podExec(runtime, await podFor(body), field(body, "container", false), cmd as string[], timeoutMs);
      })().then((r) => reply(m, r), (e) => reply(m, statusOf(e)));
    },
  }));

  subs.push(nc.subscribe(subjects.node(nodeName, "logs"), {
    callback: (_e, m) => {
      if (unanswerable(m)) return;
      (async () => {
        const body = parse(m.data);
        const streamId = streamIdOf(body);
        const stream = subjects.nodeLogStream(nodeName, streamId);
        const follow = body.follow === true;
        const tail = typeof body.tail === "number" ? body.tail : undefined;
        const pod = await podFor(body);
        if (active.has(streamId)) throw new ApiError("AlreadyExists", `log stream "${streamId}" is already in use`);
        active.add(streamId);
        let chunks: Awaited<ReturnType<typeof podLogs>>;
        try {
          chunks = await podLogs(runtime, pod, field(body, "container", false), follow, tail);
        } catch (e) {
          active.delete(streamId);
          throw e;
        }
        reply(m, { ok: true });
        if (follow) follows.set(streamId, { expires: Date.now() + 30_000, close: () => chunks.close() });
        try {
          for await (const c of chunks) {
            nc.publish(stream, enc.encode(JSON.stringify({ stream: c.stream, data: Buffer.from(c.data).toString("base64") })));
          }
          nc.publish(stream, enc.encode(JSON.stringify({ end: true })));
        } catch (e) {
          nc.publish(stream, enc.encode(JSON.stringify({ error: String(e) })));
        } finally {
          follows.delete(streamId);
          active.delete(streamId);
        }
      })().catch((e) => reply(m, statusOf(e)));
    },
  }));

  subs.push(nc.subscribe(subjects.node(nodeName, "logs", "keepalive"), {
    callback: (_e, m) => {
      try {
        const f = follows.get(streamIdOf(parse(m.data)));
        if (f) f.expires = Date.now() + 30_000;
        reply(m, { ok: !!f });
      } catch (e) {
        reply(m, statusOf(e));
      }
    },
  }));

  // A follower that stopped renewing (Ctrl-C'd CLI) releases its log stream.
  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [k, f] of follows) if (f.expires < now) {
      f.close();
      follows.delete(k);
    }
  }, 5_000);

  return {
    stop() {
      streams.stop();
      clearInterval(reaper);
      for (const s of subs) s.unsubscribe();
      for (const f of follows.values()) f.close();
      follows.clear();
    },
  };
}

function statusOf(e: unknown) {
  return toStatus(e instanceof ApiError ? e : e instanceof Error && e.name === "PodContainerNotFoundError" ? new ApiError("NotFound", e.message) : e);
}

/** Client side: runs a command in a pod's container through its node agent. */
export async function execInPod(nc: NatsConnection, client: ApiClient, args: { namespace?: string; pod: string; container?: string; command: string[]; timeoutMs?: number }) {
  const pod = await client.get("pods", args.pod, args.namespace);
  if (!pod.spec.nodeName) throw new ApiError("BadRequest", `pod ${args.pod} is not scheduled to a node yet`);
  const reply = await nc.request(subjects.node(pod.spec.nodeName, "exec"), JSON.stringify({ ...args, namespace: pod.metadata.namespace }), {
    timeout: (args.timeoutMs ?? 60_000) + 5_000,
  }).catch((e) => {
    throw new ApiError("ServiceUnavailable", `node ${pod.spec.nodeName} did not answer: ${(e as Error).message}`);
  });
  const v = reply.json<unknown>();
  if (isStatus(v)) throw fromStatus(v);
  return v as { exitCode: number; stdout: string; stderr: string };
}

/**
 * The REST API's `pods/log` source: each pod's log from the node that runs it, over NATS.
 * Opened before the HTTP handler answers, so a refusal gets its own status, not an empty 200.
 */
export function podLogProvider(nc: NatsConnection, client: ApiClient): LogProvider {
  return async (req) => {
    const gen = await openPodLogStream(nc, client, { namespace: req.namespace, pod: req.pod, container: req.container, follow: req.follow, tail: req.tailLines, signal: req.signal });
    return (async function* () {
      for await (const c of gen) yield c.data;
    })();
  };
}

/** Client side: a pod container's log, as chunks; with `follow`, until `signal` aborts. */
export async function* podLogStream(
  nc: NatsConnection,
  client: ApiClient,
  args: { namespace?: string; pod: string; container?: string; follow?: boolean; tail?: number; signal?: AbortSignal },
): AsyncGenerator<{ stream: "stdout" | "stderr"; data: Uint8Array }> {
  yield* await openPodLogStream(nc, client, args);
}

/**
 * `podLogStream`, opened: resolves once the node has accepted the request, so a refusal (no such
 * container, a node that does not answer, a denied caller) is an error of this call — an HTTP
 * handler can still answer it with its status — and not of the first read.
 */
export async function openPodLogStream(
  nc: NatsConnection,
  client: ApiClient,
  args: { namespace?: string; pod: string; container?: string; follow?: boolean; tail?: number; signal?: AbortSignal },
): Promise<AsyncGenerator<{ stream: "stdout" | "stderr"; data: Uint8Array }>> {
  const pod = await client.get("pods", args.pod, args.namespace);
  if (!pod.spec.nodeName) throw new ApiError("BadRequest", `pod ${args.pod} is not scheduled to a node yet`);
  const node = pod.spec.nodeName;
  const streamId = nuid.next();
  // Subscribe before asking, so no chunk the node sends after its reply can be missed.
  const sub = nc.subscribe(subjects.nodeLogStream(node, streamId));
  const stop = () => sub.unsubscribe();
  args.signal?.addEventListener("abort", stop, { once: true });
  const reply = await nc.request(subjects.node(node, "logs"), JSON.stringify({
    namespace: pod.metadata.namespace, pod: args.pod, container: args.container, follow: !!args.follow, tail: args.tail, streamId,
  }), { timeout: 15_000 }).catch((e) => {
    stop();
    throw new ApiError("ServiceUnavailable", `node ${node} did not answer: ${(e as Error).message}`);
  });
  const v = reply.json<unknown>();
  if (isStatus(v)) {
    stop();
    throw fromStatus(v);
  }
  return chunks();

  async function* chunks(): AsyncGenerator<{ stream: "stdout" | "stderr"; data: Uint8Array }> {
    const keepalive = args.follow
      ? setInterval(() => nc.request(subjects.node(node, "logs", "keepalive"), JSON.stringify({ streamId }), { timeout: 5_000 }).catch(() => {}), 10_000)
      : undefined;
    try {
      for await (const m of sub) {
        const c = m.json<{ stream?: "stdout" | "stderr"; data?: string; end?: boolean; error?: string }>();
        if (c.end) break;
        if (c.error) throw new Error(`log stream failed: ${c.error}`);
        yield { stream: c.stream ?? "stdout", data: Buffer.from(c.data ?? "", "base64") };
      }
    } finally {
      if (keepalive) clearInterval(keepalive);
      stop();
    }
  }
}
