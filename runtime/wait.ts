/**
 * Waiting for a condition on the cluster's objects, for programs and for the tests of people's own
 * apps: `waitFor` lists once, then follows a watch from that list's revision until the
 * predicate holds — no polling, no fixed sleeps — and fails with what it last saw at the deadline.
 *
 *   await waitForPodReady(cluster.client, "web-0");
 *   await waitForReplicationController(cluster.client, "backend");   // every replica Ready
 *   await waitFor(cluster.client, "services", (s) => !!s.spec.clusterIP, { name: "backend" });
 */
import type { ApiClient } from "../model/client.ts";
import { isPodReady } from "../model/pod.ts";
import type { ObjectList, Pod, ReplicationController, Resource, ResourceTypes } from "../model/types.ts";

export interface WaitOptions {
  namespace?: string;
  /** Only this object (else every object the selectors pick is offered to the predicate). */
  name?: string;
  labelSelector?: string;
  /** Default 60 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Resolves with the objects once `predicate(objects)` holds for the current set of matching objects
 * (for `name`: a list of at most one). The predicate sees the whole set after every change.
 */
export async function waitForSet<R extends Resource>(
  client: ApiClient,
  resource: R,
  predicate: (objects: ResourceTypes[R][]) => boolean,
  o: WaitOptions & { describe?: string } = {},
): Promise<ResourceTypes[R][]> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const fieldSelector = o.name ? `metadata.name=${o.name}` : undefined;
  const list: ObjectList<ResourceTypes[R]> = await client.list(resource, { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector });
  const current = new Map(list.items.map((x) => [x.metadata.uid ?? x.metadata.name, x]));
  const now = () => [...current.values()];
  if (predicate(now())) return now();
  const w = await client.watch(resource, { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector, resourceVersion: list.metadata.resourceVersion });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    w.stop();
  }, timeoutMs);
  const onAbort = () => w.stop();
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const ev of w) {
      if (ev.type === "ERROR") continue;
      const key = ev.object.metadata.uid ?? ev.object.metadata.name;
      if (ev.type === "DELETED") current.delete(key);
      else current.set(key, ev.object as ResourceTypes[R]);
      if (predicate(now())) return now();
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
    w.stop();
  }
  const what = o.describe ?? `${resource}${o.name ? `/${o.name}` : ""}${o.labelSelector ? ` -l ${o.labelSelector}` : ""}`;
  if (timedOut) throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${summary(now())}`);
  throw new WaitTimeoutError(`stopped waiting for ${what}`);
}

/** Waits until the object `name` exists and `predicate` holds for it; resolves with it. */
export async function waitFor<R extends Resource>(
  client: ApiClient,
  resource: R,
  predicate: (object: ResourceTypes[R]) => boolean,
  o: WaitOptions & { name: string; describe?: string },
): Promise<ResourceTypes[R]> {
  const [obj] = await waitForSet(client, resource, (xs) => xs.length === 1 && predicate(xs[0]), o);
  return obj;
}

/** A pod Running with every container ready (its Ready condition True). */
export function waitForPodReady(client: ApiClient, name: string, o: WaitOptions = {}): Promise<Pod> {
  return waitFor(client, "pods", isPodReady, { ...o, name, describe: `pod ${name} to be Ready` });
}

/** At least `count` pods matching `labelSelector` are Ready; resolves with the ready ones. */
export async function waitForPodsReady(client: ApiClient, labelSelector: string, count: number, o: WaitOptions = {}): Promise<Pod[]> {
  const pods = await waitForSet(client, "pods", (ps) => ps.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p)).length >= count, { ...o, labelSelector, describe: `${count} Ready pods matching ${labelSelector}` });
  return pods.filter((p) => !p.metadata.deletionTimestamp && isPodReady(p));
}

/** A replication controller whose every desired replica is Ready (status.readyReplicas = spec.replicas), observed at its generation. */
export function waitForReplicationController(client: ApiClient, name: string, o: WaitOptions = {}): Promise<ReplicationController> {
  return waitFor(
    client,
    "replicationcontrollers",
    (rc) => (rc.status?.observedGeneration ?? 0) >= (rc.metadata.generation ?? 0) && (rc.status?.readyReplicas ?? 0) === (rc.spec.replicas ?? 1) && (rc.status?.replicas ?? 0) === (rc.spec.replicas ?? 1),
    { ...o, name, describe: `replicationcontroller ${name} to have every replica Ready` },
  );
}

function summary(objs: { metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] }; status?: unknown }[]): string {
  if (!objs.length) return "nothing";
  const held = (x: (typeof objs)[number]) =>
    x.metadata.deletionTimestamp && x.metadata.finalizers?.length ? ` (being deleted since ${x.metadata.deletionTimestamp}, held by its finalizers: ${x.metadata.finalizers.join(", ")})` : "";
  return objs.slice(0, 5).map((x) => `${x.metadata.name} ${JSON.stringify(x.status ?? {})}${held(x)}`).join("; ") + (objs.length > 5 ? ` (+${objs.length - 5} more)` : "");
}
