/**
 * A small in-memory `ApiClient` for the HTTP layer's unit tests: revisions, CAS, watches with
 * history and compaction (for 410), equality label selectors and metadata.name field selectors.
 * It does no validation beyond what the HTTP tests need. Integration tests use the real `Api`.
 */
import type { ApiClient, DeleteOptions, ListOptions, Watch, WatchOptions } from "../../model/client.ts";
import { AlreadyExistsError, ApiError, ConflictError, GoneError, InvalidError, NotFoundError } from "../../model/errors.ts";
import { applyPatch } from "../../runtime/api/patch.ts";
import { NO_SIGNING_KEY } from "../../runtime/api/token_request.ts";
import { RESOURCES, type AnyObject, type ObjectList, type Pod, type ReplicationController, type Resource, type Scale, type TokenRequest, type WatchEvent } from "../../model/types.ts";

type Listener = (ev: WatchEvent, rev: number, resource: Resource) => void;

export class FakeApi implements ApiClient {
  private rev = 0;
  private compacted = 0;
  private readonly objects = new Map<string, AnyObject>();
  private readonly history: { rev: number; resource: Resource; ev: WatchEvent }[] = [];
  private readonly listeners = new Set<Listener>();
  /** Calls seen, for asserting what the HTTP layer asked for. */
  readonly calls: { method: string; args: unknown[] }[] = [];

  private key(resource: Resource, name: string, ns?: string) {
    return `${resource}/${RESOURCES[resource].namespaced ? ns ?? "default" : ""}/${name}`;
  }

  private emit(resource: Resource, type: WatchEvent["type"], obj: AnyObject) {
    const ev = { type, object: structuredClone(obj) } as WatchEvent;
    this.history.push({ rev: this.rev, resource, ev });
    for (const l of this.listeners) l(ev, this.rev, resource);
  }

  /** Forgets history up to now: watches from older revisions get 410. */
  compact(): void {
    this.compacted = this.rev;
    this.history.length = 0;
  }

  async create<R extends Resource>(resource: R, input: unknown, namespace?: string) {
    this.calls.push({ method: "create", args: [resource, input, namespace] });
    const obj = structuredClone(input) as AnyObject;
    if (!obj.metadata?.name) throw new InvalidError(RESOURCES[resource].kind, "", [{ reason: "FieldValueRequired", message: "Required value", field: "metadata.name" }]);
    const ns = RESOURCES[resource].namespaced ? namespace ?? obj.metadata.namespace ?? "default" : undefined;
    const k = this.key(resource, obj.metadata.name, ns);
    if (this.objects.has(k)) throw new AlreadyExistsError(resource, obj.metadata.name);
    this.rev++;
    const stored = {
      ...obj,
      apiVersion: "v1",
      kind: RESOURCES[resource].kind,
      metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}), uid: `uid-${this.rev}`, resourceVersion: String(this.rev), creationTimestamp: new Date().toISOString() },
    } as AnyObject;
    this.objects.set(k, stored);
    this.emit(resource, "ADDED", stored);
    return structuredClone(stored) as never;
  }

  async get<R extends Resource>(resource: R, name: string, namespace?: string) {
    const o = this.objects.get(this.key(resource, name, namespace));
    if (!o) throw new NotFoundError(resource, name);
    return structuredClone(o) as never;
  }

  private matches(o: AnyObject, opts: ListOptions): boolean {
    if (opts.namespace !== undefined && o.metadata.namespace !== undefined && o.metadata.namespace !== opts.namespace) return false;
    for (const req of (opts.labelSelector ?? "").split(",").filter(Boolean)) {
      const [k, v] = req.split("=");
      if (o.metadata.labels?.[k] !== v) return false;
    }
    for (const req of (opts.fieldSelector ?? "").split(",").filter(Boolean)) {
      const [k, v] = req.split("=");
      if (k === "metadata.name" && o.metadata.name !== v) return false;
    }
    return true;
  }

  async list<R extends Resource>(resource: R, opts: ListOptions = {}) {
    this.calls.push({ method: "list", args: [resource, opts] });
    const items = [...this.objects.entries()].filter(([k]) => k.startsWith(`${resource}/`)).map(([, o]) => o).filter((o) => this.matches(o, opts));
    const list: ObjectList = { apiVersion: "v1", kind: `${RESOURCES[resource].kind}List`, metadata: { resourceVersion: String(this.rev) }, items: structuredClone(items) };
    return list as never;
  }

  private async write<R extends Resource>(resource: R, input: unknown, keep: "status" | "spec") {
    const obj = structuredClone(input) as AnyObject;
    const k = this.key(resource, obj.metadata.name, obj.metadata.namespace);
    const cur = this.objects.get(k);
    if (!cur) throw new NotFoundError(resource, obj.metadata.name);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.metadata.resourceVersion) throw new ConflictError(resource, obj.metadata.name);
    this.rev++;
    const next = keep === "status"
      ? { ...obj, status: (cur as { status?: unknown }).status }
      : { ...cur, status: (obj as { status?: unknown }).status };
    const stored = { ...next, apiVersion: "v1", kind: cur.kind, metadata: { ...(keep === "status" ? obj.metadata : cur.metadata), uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp, resourceVersion: String(this.rev) } } as AnyObject;
    this.objects.set(k, stored);
    this.emit(resource, "MODIFIED", stored);
    return structuredClone(stored) as never;
  }

  update<R extends Resource>(resource: R, obj: unknown) {
    this.calls.push({ method: "update", args: [resource, obj] });
    return this.write(resource, obj, "status");
  }
  updateStatus<R extends Resource>(resource: R, obj: unknown) {
    this.calls.push({ method: "updateStatus", args: [resource, obj] });
    return this.write(resource, obj, "spec");
  }

  async patch<R extends Resource>(resource: R, name: string, patch: unknown, opts: { namespace?: string; type?: "merge" | "json" | "strategic"; subresource?: "status" } = {}) {
    this.calls.push({ method: "patch", args: [resource, name, patch, opts] });
    const cur = await this.get(resource, name, opts.namespace);
    const next = applyPatch(cur, patch, opts.type ?? "merge") as AnyObject;
    next.metadata = { ...next.metadata, resourceVersion: undefined };
    return opts.subresource === "status" ? this.updateStatus(resource, next) : this.update(resource, next);
  }

  async delete<R extends Resource>(resource: R, name: string, namespace?: string, opts?: DeleteOptions) {
    this.calls.push({ method: "delete", args: [resource, name, namespace, opts] });
    const k = this.key(resource, name, namespace);
    const cur = this.objects.get(k);
    if (!cur) throw new NotFoundError(resource, name);
    this.objects.delete(k);
    this.rev++;
    const gone = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(this.rev) } } as AnyObject;
    this.emit(resource, "DELETED", gone);
    return structuredClone(gone) as never;
  }

  async watch<R extends Resource>(resource: R, opts: WatchOptions = {}): Promise<Watch<never>> {
    this.calls.push({ method: "watch", args: [resource, opts] });
    const from = opts.resourceVersion && opts.resourceVersion !== "0" ? Number(opts.resourceVersion) : undefined;
    if (from !== undefined && from < this.compacted) throw new GoneError(`too old resource version: ${from} (${this.compacted})`);
    const queue: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    let stopped = false;
    if (from === undefined) {
      for (const o of ((await this.list(resource, opts)) as ObjectList).items) queue.push({ type: "ADDED", object: o as AnyObject });
    } else {
      for (const h of this.history) if (h.resource === resource && h.rev > from && this.matches(h.ev.object, opts)) queue.push(h.ev);
    }
    const listener: Listener = (ev, _rev, r) => {
      if (r !== resource || !this.matches(ev.object, opts)) return;
      queue.push(ev);
      wake?.();
    };
    this.listeners.add(listener);
    const stop = () => {
      stopped = true;
      this.listeners.delete(listener);
      wake?.();
    };
    return {
      stop,
      async *[Symbol.asyncIterator]() {
        while (!stopped) {
          const ev = queue.shift();
          if (ev) yield ev as never;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }

  async getScale(name: string, namespace?: string): Promise<Scale> {
    const rc = (await this.get("replicationcontrollers", name, namespace)) as ReplicationController;
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name, namespace: rc.metadata.namespace, resourceVersion: rc.metadata.resourceVersion },
      spec: { replicas: rc.spec.replicas ?? 1 },
      status: { replicas: rc.status?.replicas ?? 0 },
    };
  }

  async createToken(name: string, namespace: string): Promise<TokenRequest> {
    this.calls.push({ method: "createToken", args: [name, namespace] });
    throw new ApiError("NotFound", NO_SIGNING_KEY);
  }

  async bind(name: string, namespace: string | undefined, node: string, opts: { uid?: string } = {}): Promise<Pod> {
    this.calls.push({ method: "bind", args: [name, namespace, node, opts] });
    const pod = (await this.get("pods", name, namespace)) as Pod;
    if (opts.uid !== undefined && pod.metadata.uid !== opts.uid) throw new ConflictError("pods", name);
    if (pod.spec.nodeName || pod.metadata.deletionTimestamp) throw new ConflictError("pods/binding", name);
    await this.write("pods", { ...pod, spec: { ...pod.spec, nodeName: node } }, "status");
    const bound = (await this.get("pods", name, namespace)) as Pod;
    const conditions = [...(bound.status?.conditions ?? []).filter((c) => c.type !== "PodScheduled"), { type: "PodScheduled", status: "True" as const }];
    return (await this.write("pods", { ...bound, status: { ...bound.status, conditions } }, "spec")) as Pod;
  }

  async updateScale(name: string, replicas: number, namespace?: string): Promise<Scale> {
    this.calls.push({ method: "updateScale", args: [name, replicas, namespace] });
    const rc = (await this.get("replicationcontrollers", name, namespace)) as ReplicationController;
    await this.update("replicationcontrollers", { ...rc, spec: { ...rc.spec, replicas } });
    return this.getScale(name, namespace);
  }
}
