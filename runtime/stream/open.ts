/**
 * The requester's side of a stream session (the API server for kubectl and client-node, and the
 * berth CLI): checks the pod and container as kube-apiserver does (404 naming a missing pod, 400
 * `container x is not valid for pod y`), then asks the pod's node to open the session.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import type { ApiClient } from "../../model/client.ts";
import { ApiError, fromStatus, isStatus } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";
import { subjects } from "../subjects.ts";
import { StreamSession } from "./session.ts";

export type StreamKind = "exec" | "attach" | "portforward";

export interface StreamRequest {
  kind: StreamKind;
  namespace?: string;
  pod: string;
  container?: string;
  /** exec: the command. */
  command?: string[];
  stdin?: boolean;
  tty?: boolean;
  /** portforward: the pod's port. */
  port?: number;
}

/** What the node is asked (the request, resolved against the pod). */
export interface NodeStreamOpen extends StreamRequest {
  namespace: string;
  sessionId: string;
}

/**
 * Sessions for the REST API's exec/attach/portforward (server.ts `streams`): `check` answers
 * what kube-apiserver answers before it upgrades; `open` asks the node.
 */
export interface StreamProvider {
  check(req: StreamRequest): Promise<Pod>;
  open(pod: Pod, req: StreamRequest): Promise<StreamSession>;
}

/** Validates a request against its pod, as kube-apiserver does before it upgrades. */
export function checkStreamTarget(pod: Pod, req: StreamRequest): void {
  const name = pod.metadata.name;
  if (req.kind !== "portforward") {
    if (req.container !== undefined && !pod.spec.containers.some((c) => c.name === req.container)) {
      throw new ApiError("BadRequest", `container ${req.container} is not valid for pod ${name}`);
    }
    if (req.kind === "exec" && (!req.command || req.command.length === 0)) throw new ApiError("BadRequest", "you must specify at least one command for the container");
  } else if (req.port !== undefined && !Number.isInteger(req.port) || req.port! < 1 || req.port! > 65535) {
    throw new ApiError("BadRequest", `invalid port ${JSON.stringify(req.port)}: must be 1-65535`);
  }
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") {
    throw new ApiError("BadRequest", `cannot ${req.kind === "portforward" ? "port-forward to" : `${req.kind} into`} a container in a completed pod; current phase is ${phase}`);
  }
  if (!pod.spec.nodeName) throw new ApiError("BadRequest", `pod ${name} does not have a host assigned`);
}

/** Fetches and checks the pod; throws the Status kube-apiserver would answer. */
export async function resolveStreamTarget(client: ApiClient, req: StreamRequest): Promise<Pod> {
  const pod = await client.get("pods", req.pod, req.namespace);
  checkStreamTarget(pod, req);
  return pod;
}

/** Opens a session with the node running `pod` (already checked by `resolveStreamTarget`). */
export async function openNodeStream(nc: NatsConnection, pod: Pod, req: StreamRequest, opts: { window?: number; timeoutMs?: number } = {}): Promise<StreamSession> {
  const node = pod.spec.nodeName!;
  const sessionId = nuid.next();
  // Subscribe before asking, so nothing the node sends after its reply is missed.
  const session = new StreamSession(nc, {
    sendSubject: subjects.nodeStreamIo(node, sessionId, "up"),
    recvSubject: subjects.nodeStreamIo(node, sessionId, "down"),
    window: opts.window,
  });
  const body: NodeStreamOpen = { ...req, namespace: pod.metadata.namespace ?? "default", sessionId };
  let v: unknown;
  try {
    const reply = await nc.request(subjects.node(node, "stream"), JSON.stringify(body), { timeout: opts.timeoutMs ?? 15_000 });
    v = reply.json<unknown>();
  } catch (e) {
    session.end("open failed", false);
    throw new ApiError("ServiceUnavailable", `node ${node} did not answer: ${(e as Error).message}`);
  }
  if (isStatus(v)) {
    session.end("refused", false);
    throw fromStatus(v);
  }
  return session;
}

/** A `StreamProvider` over `nc`, checking each request against the API first. */
export function nodeStreamProvider(nc: NatsConnection, client: ApiClient): StreamProvider {
  return {
    check: (req) => resolveStreamTarget(client, req),
    open: (pod, req) => {
      checkStreamTarget(pod, req);
      return openNodeStream(nc, pod, req);
    },
  };
}
