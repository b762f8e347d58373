/**
 * What a node agent answers besides the API: container logs and exec for the pods it runs, on
 * its own node-scoped subjects (the kubelet's `/containerLogs` and `/exec`, over NATS):
 *
 *   berth.node.<node>.logs   {namespace, pod, container?, follow?, tail?, stream: <subject>}
 *                            → reply {ok:true} then chunks {stream, data(base64)} published to
 *                              `stream`, ended by {end:true} (or {error}); while following, the
 *                              requester renews with berth.node.<node>.logs.keepalive {stream}.
 *   berth.node.<node>.exec   {namespace, pod, container?, command: string[], timeoutMs?}
 *                            → reply {exitCode, stdout, stderr}
 *
 * Errors reply with a Kubernetes Status, like the API.
 */
import type { LogProvider } from "../http/server.ts";
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import type { ApiClient } from "../../model/client.ts";
import { ApiError, BadRequestError, fromStatus, isStatus, toStatus } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";
import type { ContainerRuntime } from "../../model/container_runtime.ts";
import { podExec, podLogs } from "./agent.ts";
import { subjects } from "../subjects.ts";

const enc = new TextEncoder();

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
export function serveNodeServices(nc: NatsConnection, opts: { nodeName: string; runtime: ContainerRuntime; client: ApiClient }): { stop(): void } {
  const { nodeName, runtime, client } = opts;
  const subs: Subscription[] = [];
  const follows = new Map<string, { expires: number; close(): void }>();

  const podFor = async (body: Record<string, unknown>): Promise<Pod> => {
    const pod = await client.get("pods", field(body, "pod", true)!, field(body, "namespace", false) ?? "default");
    if (pod.spec.nodeName !== nodeName) throw new ApiError("BadRequest", `pod ${pod.metadata.name} is not running on node ${nodeName}`);
    return pod;
  };
  const parse = (data: Uint8Array): Record<string, unknown> => {
    try {
      const v = JSON.parse(new TextDecoder().decode(data));
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new BadRequestError("request body must be a JSON object");
  };

  subs.push(nc.subscribe(subjects.node(nodeName, "exec"), {
    callback: (_e, m) => {
      (async () => {
        const body = parse(m.data);
        const cmd = body.command;
        if (!Array.isArray(cmd) || cmd.length === 0 || !cmd.every((c) => typeof c === "string")) {
          throw new BadRequestError(`field "command" must be a non-empty array of strings`);
        }
        const timeoutMs = typeof body.timeoutMs === "number" ? body.timeoutMs : 60_000;
        return await podExec(runtime, await podFor(body), field(body, "container", false), cmd as string[], timeoutMs);
      })().then((r) => m.respond(enc.encode(JSON.stringify(r))), (e) => m.respond(enc.encode(JSON.stringify(statusOf(e)))));
    },
  }));

  subs.push(nc.subscribe(subjects.node(nodeName, "logs"), {
    callback: (_e, m) => {
      (async () => {
        const body = parse(m.data);
        const stream = field(body, "stream", true)!;
        if (!/^_INBOX[\w.-]*$|^berth\.node\.[\w-]+\.logstream\.[\w-]+$/.test(stream)) throw new BadRequestError(`field "stream" must be an inbox subject`);
        const follow = body.follow === true;
        const tail = typeof body.tail === "number" ? body.tail : undefined;
        const chunks = await podLogs(runtime, await podFor(body), field(body, "container", false), follow, tail);
        m.respond(enc.encode(JSON.stringify({ ok: true })));
        if (follow) follows.set(stream, { expires: Date.now() + 30_000, close: () => chunks.close() });
        try {
          for await (const c of chunks) {
            nc.publish(stream, enc.encode(JSON.stringify({ stream: c.stream, data: Buffer.from(c.data).toString("base64") })));
          }
          nc.publish(stream, enc.encode(JSON.stringify({ end: true })));
        } catch (e) {
          nc.publish(stream, enc.encode(JSON.stringify({ error: String(e) })));
        } finally {
          follows.delete(stream);
        }
      })().catch((e) => m.respond(enc.encode(JSON.stringify(statusOf(e)))));
    },
  }));

  subs.push(nc.subscribe(subjects.node(nodeName, "logs", "keepalive"), {
    callback: (_e, m) => {
      try {
        const stream = field(parse(m.data), "stream", true)!;
        const f = follows.get(stream);
        if (f) f.expires = Date.now() + 30_000;
        m.respond(enc.encode(JSON.stringify({ ok: !!f })));
      } catch (e) {
        m.respond(enc.encode(JSON.stringify(statusOf(e))));
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
  const stream = `_INBOX.logs.${nuid.next()}`;
  const sub = nc.subscribe(stream);
  const stop = () => sub.unsubscribe();
  args.signal?.addEventListener("abort", stop, { once: true });
  const reply = await nc.request(subjects.node(node, "logs"), JSON.stringify({
    namespace: pod.metadata.namespace, pod: args.pod, container: args.container, follow: !!args.follow, tail: args.tail, stream,
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
      ? setInterval(() => nc.request(subjects.node(node, "logs", "keepalive"), JSON.stringify({ stream }), { timeout: 5_000 }).catch(() => {}), 10_000)
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
