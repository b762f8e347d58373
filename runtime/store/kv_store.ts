/**
 * The object store: Kubernetes objects in a JetStream KV bucket, Berth's "etcd".
 *
 *   key       <resource>.<namespace or _>.<name>            (runtime/subjects.ts objectKey)
 *   value     {"op":"c"|"u"|"d","o":<object>}              (an envelope; see below)
 *   revision  the KV revision (JetStream stream sequence) = metadata.resourceVersion
 *
 * Every write is compare-and-swap on the key's last revision, so a stale writer gets
 * `ConflictError`. The envelope records whether a write created or updated the object, so a
 * watch resumed from any revision can tell ADDED from MODIFIED; a delete writes a tombstone
 * that still carries the object's last state, so DELETED events carry the object as Kubernetes
 * does. Tombstones are purged by `compact()`, which records the revision it compacted up to:
 * a watch asked to resume from before it fails with `GoneError`, and the caller relists.
 *
 * The store validates nothing and applies no defaults; that is the Api's job (runtime/api/api.ts).
 */
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import { AlreadyExistsError, ApiError, ConflictError, GoneError, NotFoundError } from "../../model/errors.ts";
import { type AnyObject, apiVersionOf, RESOURCES, type Resource, type ResourceTypes, type WatchEventType } from "../../model/types.ts";
import { kvSubject, storeKey, storeKeyFilter, parseStoreKey, STATE_BUCKET, STORE_META_KEY as META_KEY, STORE_PROGRESS_KEY } from "../subjects.ts";
import { objectKey } from "../../model/names.ts";
import type { ValueTransformer } from "../security/encryption.ts";
import { JsPublisher } from "./js_publisher.ts";

/** JetStream's "wrong last sequence" codes: a CAS write lost. */
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);
const HISTORY = 2;

/** The headers of a compare-and-swap write: the key's last message must be `seq` (0: none yet); `DEL` writes a tombstone. */
function expectSequence(seq: number, op?: "DEL"): MsgHdrs {
  const h = headers();
  if (op) h.set("KV-Operation", op);
  h.set("Nats-Expected-Last-Subject-Sequence", String(seq));
  return h;
}

/**
 * Consumers (lists and watches) are created as hedged requests: if a create has not answered
 * within CONSUMER_HEDGE_MS (or four times the recent answer time, when the machine is busy),
 * another is started beside it, up to CONSUMER_CREATE_ATTEMPTS; the first to answer is used and
 * the others are deleted. On a JetStream cluster that has lost a
 * server, nats-server 2.9 still places some new R1 consumers on the dead server's share of the
 * stream's peers (about one in three on a 3-server cluster, for as long as the server stays
 * dead), and such a create never answers. A healthy create answers in milliseconds, so the
 * hedge costs nothing normally, and turns a 5 s timeout into a few hundred ms when a server is
 * gone. (Measured on this machine with nats-server 2.9.10; see docs/multi-machine.md.)
 */
export const CONSUMER_HEDGE_MS = 300;
export const CONSUMER_CREATE_ATTEMPTS = 6;
/** Each create's own timeout. */
export const CONSUMER_CREATE_TIMEOUT_MS = 2_000;
/**
 * A watch whose JetStream consumer lived on a server that died delivers nothing, for good: the
 * client library's heartbeat monitor does not notice (measured with nats.js 3.4 and
 * nats-server 2.9.10: a watch stayed silent for 40 s while its peers saw every write). So every
 * store watch asks its consumer for its info every WATCH_PROBE_MS; after WATCH_PROBE_MISSES
 * unanswered asks the watch ends with an error, and its owner watches again from the last
 * revision it saw (the API's watch hub ends its subscribers, whose clients resume).
 */
export const WATCH_PROBE_MS = 3_000;
export const WATCH_PROBE_MISSES = 2;

/** The longest a list may take reading its snapshot before it is tried again. */
export const LIST_READ_TIMEOUT_MS = 20_000;

/**
 * Runs `attempt` and, while none has succeeded, another every `hedgeMs`, up to `max` at once.
 * Resolves with the first success; a later success is handed to `discard`. Rejects when every
 * attempt has failed, or at once on an error that is not a timeout (retrying cannot fix it).
 */
export function hedged<T>(attempt: () => Promise<T>, discard: (value: T) => void, hedgeMs = CONSUMER_HEDGE_MS, max = CONSUMER_CREATE_ATTEMPTS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let started = 0;
    let failed = 0;
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const launch = () => {
      started++;
      attempt().then(
        (value) => {
          if (done) return discard(value);
          done = true;
          clearTimeout(timer);
          resolve(value);
        },
        (e) => {
          failed++;
          if (done) return;
          if (!isTimeout(e) || (failed === started && started >= max)) {
            done = true;
            clearTimeout(timer);
            reject(e);
          } else if (failed === started) {
            // Every attempt so far failed: start the next one now rather than at the next tick.
            clearTimeout(timer);
            launch();
          }
        },
      );
      if (started < max) timer = setTimeout(() => !done && launch(), hedgeMs);
    };
    launch();
  });
}

/** A list read that did not reach its snapshot's revision (retried, see `list`). */
class ListIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListIncompleteError";
  }
}

interface Envelope {
  op: "c" | "u" | "d";
  /** The object, or its encrypted form (a string; see runtime/security/encryption.ts). */
  o: AnyObject | string;
  /** The revision that created the object (on updates and deletes; a create is its own). */
  c?: number;
}

export interface StoreOptions {
  bucket?: string;
  /** JetStream replicas for the bucket: 1 on one server, 3 on a 3-server cluster. */
  replicas?: number;
  /**
   * The bucket's size limit in bytes (etcd's quota): a write beyond it fails with `StoreFullError`
   * and nothing stored is damaged. Default: no limit. Applied to an existing bucket too.
   */
  maxBytes?: number;
}

/** The bucket is at its size limit (`StoreOptions.maxBytes`): like etcd's "database space exceeded". */
export class StoreFullError extends ApiError {
  constructor(cause?: unknown) {
    super("InternalError", "the object store is full: the state bucket has reached its size limit (maximum bytes exceeded); delete objects, compact, or raise the limit", undefined, { cause });
  }
}

/** One change seen by a store watch. `revision` is the object's new resourceVersion. */
export interface StoreEvent<T extends AnyObject = AnyObject> {
  type: Exclude<WatchEventType, "BOOKMARK" | "ERROR">;
  object: T;
  revision: number;
  /**
   * The revision that created the object, when known. The KV keeps one version per key, so a
   * watch resumed from revision R may see an object created after R only in a later update:
   * this tells the API it is still an ADDED for that watcher.
   */
  createdRevision?: number;
}

/** One entry of the whole bucket (see `listAll`). */
export interface BucketEntry {
  key: string;
  resource: string;
  object: AnyObject;
  revision: number;
  createdRevision?: number;
}

/**
 * One change to the bucket (see `watchBucket`). Without `resource` it is a write to a key that
 * is not an object (a lease, the store's record): only its revision matters.
 */
export interface BucketEvent {
  key: string;
  revision: number;
  resource?: string;
  type?: StoreEvent["type"];
  object?: AnyObject;
  createdRevision?: number;
}

export interface BucketWatch extends AsyncIterable<BucketEvent> {
  stop(): void;
}

export interface StoreWatch<T extends AnyObject = AnyObject> extends AsyncIterable<StoreEvent<T>> {
  stop(): void;
}

export class KvStore {
  /** Creation revisions of the objects this store handed out (see `createdRevisionOf`). */
  private readonly created = new WeakMap<object, number>();
  /** Encryption at rest (Secrets); absent: every value is stored as plain JSON. */
  private transformer?: ValueTransformer;

  /** Applies `t` to every value written from now on and to every value read (see encryption.ts). */
  useTransformer(t: ValueTransformer): void {
    this.transformer = t;
  }

  private seal(resource: Resource, obj: AnyObject): AnyObject | string {
    const o = strip(obj);
    return this.transformer ? this.transformer.seal(resource, o) : o;
  }

  private constructor(
    readonly nc: NatsConnection,
    /** For consumers: short request timeout (CONSUMER_CREATE_TIMEOUT_MS), retried by the callers. */
    private readonly jsConsumers: JetStreamClient,
    private readonly kv: KV,
    /** The same bucket through `jsConsumers`, for watches. */
    private readonly kvWatch: KV,
    readonly bucket: string,
  ) {
    this.pub = new JsPublisher(nc);
  }

  /** Every write goes through it: one reply subscription, not a request per write. */
  private readonly pub: JsPublisher;

  /**
   * Writes `data` to `key` if the key's last message is `expected` (0: none). A create (0) that
   * finds a tombstone is made again against the tombstone's revision, as the KV client's
   * `create` does: a deleted key can be created anew.
   */
  private async put(key: string, data: string, expected: number, create = false): Promise<number> {
    // 0 would make an update a create of a missing key (the KV client's update refuses it too).
    if (!create && expected <= 0) throw new Error(`an update needs the revision it replaces, not ${expected}`);
    const subject = kvSubject(this.bucket, key);
    try {
      return await this.pub.publish(subject, data, expectSequence(expected));
    } catch (e) {
      if (!create || !isWrongLastSequence(e)) throw e;
      const last = await this.kv.get(key);
      if (!last || last.operation === "PUT") throw e;
      return await this.pub.publish(subject, data, expectSequence(last.revision));
    }
  }

  /** Writes the tombstone of `key` (its last object `o`, kept for watchers) if the key's last message is `expected`. */
  private tombstone(key: string, o: AnyObject | string, created: number | undefined, expected: number): Promise<number> {
    return this.pub.publish(kvSubject(this.bucket, key), encode({ op: "d", o, ...(created ? { c: created } : {}) }), expectSequence(expected, "DEL"));
  }

  /** Opens (creating if needed) the state bucket on a JetStream-enabled connection. */
  static async open(nc: NatsConnection, opts: StoreOptions = {}): Promise<KvStore> {
    const bucket = opts.bucket ?? STATE_BUCKET;
    const js = jetstream(nc);
    // Two versions per key: a list reading a snapshot while a key is updated still finds the
    // version the snapshot named (see list); watches and gets only ever use the newest.
    const kv = await new Kvm(js).create(bucket, { history: HISTORY, replicas: opts.replicas ?? 1, ...(opts.maxBytes ? { max_bytes: opts.maxBytes } : {}) });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(`KV_${bucket}`);
    const maxBytes = opts.maxBytes ?? info.config.max_bytes;
    if ((info.config.max_msgs_per_subject ?? 0) < HISTORY || maxBytes !== info.config.max_bytes) {
      // A bucket made by an earlier Berth with one version per key, or with another size limit.
      await jsm.streams.update(`KV_${bucket}`, { ...info.config, max_msgs_per_subject: Math.max(HISTORY, info.config.max_msgs_per_subject ?? 0), max_bytes: maxBytes });
    }
    const jsConsumers = jetstream(nc, { timeout: CONSUMER_CREATE_TIMEOUT_MS });
    const kvWatch = await new Kvm(jsConsumers).open(bucket);
    return new KvStore(nc, jsConsumers, kv, kvWatch, bucket);
  }

  /** Stores a new object. Fails with `AlreadyExistsError` if the key holds a live object. */
  async create<R extends Resource>(resource: R, obj: ResourceTypes[R]): Promise<ResourceTypes[R]> {
    const key = this.key(resource, obj);
    try {
      const rev = await this.put(key, encode({ op: "c", o: this.seal(resource, obj) }), 0, true);
      return this.remember(withRevision(obj, rev), rev);
    } catch (e) {
      if (isWrongLastSequence(e)) throw new AlreadyExistsError(resource, obj.metadata.name);
      throw storeError(e);
    }
  }

  /** Reads one object, or throws `NotFoundError`. */
  async get<R extends Resource>(resource: R, namespace: string | undefined, name: string): Promise<ResourceTypes[R]> {
    const found = await this.tryGet(resource, namespace, name);
    if (!found) throw new NotFoundError(resource, name);
    return found;
  }

  /** Reads one object, or null when it does not exist. */
  async tryGet<R extends Resource>(resource: R, namespace: string | undefined, name: string): Promise<ResourceTypes[R] | null> {
    let key: string;
    try {
      key = storeKey(resource, namespace, name);
    } catch {
      return null; // a name no object can have: there is no such object
    }
    let entry: KvEntry | null;
    try {
      entry = await this.kv.get(key);
    } catch (e) {
      throw storeError(e);
    }
    if (!entry || entry.operation !== "PUT") return null;
    const d = decodeEntry(entry, this.transformer);
    return this.remember(d.object, d.createdRevision) as ResourceTypes[R];
  }

  /**
   * Every live object of a resource (optionally in one namespace), and the revision the list
   * is consistent with: a watch from that revision misses nothing (it may repeat an object
   * already listed, with the same or a newer resourceVersion).
   */
  async list<R extends Resource>(resource: R, namespace?: string): Promise<{ items: ResourceTypes[R][]; revision: number }> {
    const read = await this.readLatest(storeKeyFilter(resource, namespace));
    if (!read) return await this.listByDirectGet(resource, namespace);
    const items: ResourceTypes[R][] = [];
    for (const { seq, op, env } of read.latest.values()) {
      if (op && op !== "PUT") continue;
      const d = fromEnvelope(env, seq, this.transformer);
      items.push(this.remember(d.object, d.createdRevision) as ResourceTypes[R]);
    }
    items.sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
    return { items, revision: read.revision };
  }

  /**
   * Every live object of every resource, and the revision the snapshot is consistent with: the
   * watch cache's initial load (one consumer over the whole bucket, read once at start).
   */
  async listAll(): Promise<{ entries: BucketEntry[]; revision: number }> {
    const read = await this.readLatest(">");
    if (!read) throw new ApiError("ServiceUnavailable", "object store unavailable: the bucket could not be read (consumer creation timed out twice)");
    const prefix = kvSubject(this.bucket);
    const entries: BucketEntry[] = [];
    for (const [subject, { seq, op, env }] of read.latest) {
      if (op && op !== "PUT") continue;
      const key = subject.slice(prefix.length);
      if (key.startsWith("_")) continue; // the store's own records and leases, not objects
      const d = decodeForCache(key, env, seq, this.transformer);
      entries.push({ key, resource: parseStoreKey(key).resource, object: d.unreadable ? d.object : this.remember(d.object, d.createdRevision), revision: seq, createdRevision: d.createdRevision });
    }
    return { entries, revision: read.revision };
  }

  /**
   * The newest message of every key under `filter` and the revision that snapshot is
   * consistent with; null when no consumer could be made or read twice (the caller falls back).
   */
  private async readLatest(filter: string): Promise<{ latest: Map<string, { seq: number; op: string | undefined; env: Envelope }>; revision: number } | null> {
    let revision = 0;
    const stream = `KV_${this.bucket}`;
    /** The newest message seen per key: a safety net should the server ever deliver one twice. */
    const latest = new Map<string, { seq: number; op: string | undefined; env: Envelope }>();
    type Consumer = Awaited<ReturnType<JetStreamClient["consumers"]["get"]>>;
    const drop = (c: Consumer) => void c.delete().catch(() => {});
    for (let round = 1; ; round++) {
      let consumer: Consumer | undefined;
      try {
        // An ordered consumer delivering the last message of every key under the filter, then
        // whatever is written after. Every message of the snapshot has a sequence at most the
        // stream's last one once the consumer exists, so read in sequence order until past it
        // (or until nothing is pending) — never a fixed count: an ordered consumer may reset
        // mid-read and restart from a stream sequence, delivering superseded versions too, which
        // the newest-per-key map absorbs. Two versions are kept per key, so a key updated while
        // we read still has the version the snapshot named.
        const made = await hedged(this.timed(async () => {
          const c = await this.jsConsumers.consumers.get(stream, {
            filter_subjects: kvSubject(this.bucket, filter),
            deliver_policy: DeliverPolicy.LastPerSubject,
          });
          try {
            return { c, info: await c.info(true) };
          } catch (e) {
            drop(c);
            throw e;
          }
        }), ({ c }) => drop(c), this.hedgeMs());
        consumer = made.c;
        // Taken after the consumer exists, so it is also a revision the list is consistent with.
        const target = await this.lastRevision();
        revision = target;
        // A consumer made on an empty filter reports nothing pending, but a write may land
        // between its creation and `target`: the list's revision covers that write (the watch
        // that follows starts after it), so ask again now instead of skipping the read.
        const pending = made.info.num_pending > 0 ? made.info.num_pending : target > 0 ? (await consumer.info(false)).num_pending : 0;
        if (pending > 0) {
          const msgs = await consumer.consume();
          // The read must reach the target: an iterator that ends early (the client gave up
          // re-creating the consumer while its server restarted) or stalls would otherwise
          // make a partial list look complete, or hang its caller.
          let complete = false;
          const stall = setTimeout(() => void msgs.close().catch(() => {}), LIST_READ_TIMEOUT_MS);
          try {
            for await (const m of msgs) {
              const prev = latest.get(m.subject);
              if (!prev || m.seq > prev.seq) latest.set(m.subject, { seq: m.seq, op: m.headers?.get("KV-Operation"), env: m.json<Envelope>() });
              if (m.seq > revision) revision = m.seq;
              if (m.seq >= target || m.info.pending === 0) {
                complete = true;
                break;
              }
            }
          } finally {
            clearTimeout(stall);
          }
          await msgs.close();
          if (!complete) throw new ListIncompleteError(`list of ${filter} ended before revision ${target}`);
        }
        break;
      } catch (e) {
        if (!isTimeout(e) && !(e instanceof ListIncompleteError)) throw storeError(e);
        // No consumer could be placed where it starts (see CONSUMER_HEDGE_MS), or the read
        // broke off: one more round, then read the keys one by one, which needs no consumer.
        latest.clear();
        if (round >= 2) return null;
      } finally {
        // Ephemeral consumers otherwise linger on the server for their 5-minute inactivity
        // threshold; a busy API lists often.
        // Not awaited: on a cluster electing a new stream leader the delete can take seconds, and
        // the server drops an idle ephemeral consumer by itself anyway.
        if (consumer) drop(consumer);
      }
    }
    return { latest, revision };
  }

  /**
   * `list` without a consumer: the stream's subject index names the keys, and each key's last
   * message is read from the stream leader (`STREAM.MSG.GET`, not a direct get: direct gets may
   * be answered by a replica that lags, and a list that missed a just-created pod would make a
   * controller create it again). Slower (one request per key), used only when consumer
   * creation times out.
   */
  private async listByDirectGet<R extends Resource>(resource: R, namespace?: string): Promise<{ items: ResourceTypes[R][]; revision: number }> {
    try {
      const jsm = await jetstreamManager(this.nc);
      const stream = `KV_${this.bucket}`;
      const prefix = kvSubject(this.bucket);
      const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}${storeKeyFilter(resource, namespace)}` });
      let revision = info.state.last_seq;
      const subjects = Object.keys(info.state.subjects ?? {});
      const items: ResourceTypes[R][] = [];
      for (let i = 0; i < subjects.length; i += 64) {
        const got = await Promise.all(subjects.slice(i, i + 64).map((subj) => jsm.streams.getMessage(stream, { last_by_subj: subj })));
        for (const m of got) {
          if (!m) continue;
          if (m.seq > revision) revision = m.seq;
          const op = m.header?.get("KV-Operation");
          if (op && op !== "PUT") continue;
          const d = fromEnvelope(m.json<Envelope>(), m.seq, this.transformer);
          items.push(this.remember(d.object, d.createdRevision) as ResourceTypes[R]);
        }
      }
      items.sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
      return { items, revision };
    } catch (e) {
      throw storeError(e);
    }
  }

  /**
   * Replaces an object. With `expectedRevision` the write is compare-and-swap against it
   * (stale → `ConflictError`); without, against whatever is stored now (absent → `NotFoundError`).
   */
  async update<R extends Resource>(resource: R, obj: ResourceTypes[R], expectedRevision?: number, createdRevision?: number): Promise<ResourceTypes[R]> {
    const key = this.key(resource, obj);
    let rev = expectedRevision;
    let created = createdRevision;
    if (rev === undefined) {
      const entry = await this.kv.get(key).catch((e) => {
        throw storeError(e);
      });
      if (!entry || entry.operation !== "PUT") throw new NotFoundError(resource, obj.metadata.name);
      rev = entry.revision;
      created ??= decodeEntry(entry, this.transformer).createdRevision;
    }
    try {
      const newRev = await this.put(key, encode({ op: "u", o: this.seal(resource, obj), ...(created ? { c: created } : {}) }), rev);
      return this.remember(withRevision(obj, newRev), created);
    } catch (e) {
      if (isWrongLastSequence(e)) return await this.lostSwap(resource, obj.metadata.namespace, obj.metadata.name);
      throw storeError(e);
    }
  }

  /**
   * Deletes an object, leaving a tombstone that carries its last state. With
   * `expectedRevision` the delete is compare-and-swap. `current`, the object at exactly
   * `expectedRevision` as this store handed it out (a get, a write, or the bucket feed), saves
   * the read of the entry: the tombstone is written from it, still only if the key is at that
   * revision (else Conflict, as when the read finds another revision). `last`, with `current`,
   * is the state the tombstone keeps instead of `current`'s: an update that removed an object's
   * last finalizer deletes it in the same compare-and-swap, carrying the update.
   */
  async delete<R extends Resource>(
    resource: R,
    namespace: string | undefined,
    name: string,
    expectedRevision?: number,
    current?: AnyObject,
    last?: AnyObject,
  ): Promise<ResourceTypes[R]> {
    let key: string;
    try {
      key = storeKey(resource, namespace, name);
    } catch {
      throw new NotFoundError(resource, name); // a name no object can have
    }
    let object: AnyObject;
    let createdRevision: number | undefined;
    let revision: number;
    const knownCreated = current && expectedRevision !== undefined && current.metadata.resourceVersion === String(expectedRevision) ? this.created.get(current) : undefined;
    if (current && knownCreated !== undefined) {
      object = last ?? current;
      createdRevision = knownCreated;
      revision = expectedRevision!;
    } else {
      const entry = await this.kv.get(key).catch((e) => {
        throw storeError(e);
      });
      if (!entry || entry.operation !== "PUT") throw new NotFoundError(resource, name);
      if (expectedRevision !== undefined && entry.revision !== expectedRevision) throw new ConflictError(resource, name);
      ({ object, createdRevision } = decodeEntry(entry, this.transformer));
      if (last && expectedRevision !== undefined) object = last;
      revision = entry.revision;
    }
    try {
      const seq = await this.tombstone(key, this.seal(resource, object), createdRevision, revision);
      return withRevision(object as ResourceTypes[R], seq);
    } catch (e) {
      if (isWrongLastSequence(e)) return await this.lostSwap(resource, namespace, name);
      throw storeError(e);
    }
  }

  /**
   * The answer to a write whose compare-and-swap lost: NotFound when the object is gone meanwhile
   * (as Kubernetes answers; a client takes a delete that lost to another delete as done),
   * Conflict when it changed.
   */
  private async lostSwap(resource: Resource, namespace: string | undefined, name: string): Promise<never> {
    if (!(await this.tryGet(resource, namespace, name))) throw new NotFoundError(resource, name);
    throw new ConflictError(resource, name);
  }

  /**
   * Deletes an object whose stored value cannot be read (UnreadableObjectError), without reading
   * it: Kubernetes' unsafe deletion of a corrupt object. Nothing about the object is known, so its
   * finalizers and owners are not consulted; the tombstone carries only its kind, name and
   * namespace (what a watcher is shown as DELETED). Still a compare-and-swap on the entry's
   * revision. An object that can be read is refused here (Conflict): it goes the normal way.
   */
  async deleteUnreadable<R extends Resource>(resource: R, namespace: string | undefined, name: string): Promise<ResourceTypes[R]> {
    let key: string;
    try {
      key = storeKey(resource, namespace, name);
    } catch {
      throw new NotFoundError(resource, name);
    }
    const entry = await this.kv.get(key).catch((e) => {
      throw storeError(e);
    });
    if (!entry || entry.operation !== "PUT") throw new NotFoundError(resource, name);
    try {
      decodeEntry(entry, this.transformer);
      throw new ApiError("Conflict", `${resource} "${name}" can be read: it is deleted the normal way, not as a corrupt object`, { name, kind: resource });
    } catch (e) {
      if (!(e instanceof UnreadableObjectError)) throw e;
    }
    const env = entry.json() as Envelope;
    const stub = { apiVersion: apiVersionOf(resource), kind: RESOURCES[resource].kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as unknown as AnyObject;
    const created = env.op === "c" ? entry.revision : env.c;
    try {
      const seq = await this.tombstone(key, stub, created, entry.revision);
      return withRevision(stub as ResourceTypes[R], seq);
    } catch (e) {
      if (isWrongLastSequence(e)) throw new ConflictError(resource, name);
      throw storeError(e);
    }
  }

  /**
   * Changes after `fromRevision` (exclusive). Without it, every live object is delivered first
   * as ADDED, then changes. Resuming from a revision older than the last compaction fails
   * with `GoneError`.
   */
  async watch<R extends Resource>(
    resource: R,
    opts: { namespace?: string; fromRevision?: number } = {},
  ): Promise<StoreWatch<ResourceTypes[R]>> {
    // Read before anything: `events` below is hoisted and must not see this binding uninitialized.
    const transformer = this.transformer;
    const from = opts.fromRevision;
    if (from !== undefined && from > 0) {
      const compacted = await this.compactedRevision();
      if (from < compacted) throw new GoneError(`too old resource version: ${from} (${compacted})`);
    }
    const replay = from === undefined || from <= 0;
    const { source, stop, finish } = await this.openWatch(storeKeyFilter(resource, opts.namespace), replay ? undefined : from, resource);
    const remember = (o: AnyObject, c: number | undefined) => this.remember(o, c);
    return {
      stop,
      [Symbol.asyncIterator]: () => drained(events(), stop, finish),
    };

    async function* events(): AsyncGenerator<StoreEvent<ResourceTypes[R]>> {
      /** Keys this watch has already shown (so only their first appearance can be an ADDED). */
      const seen = new Set<string>();
      for await (const e of source) {
        // A replay of current state skips tombstones: those objects are already gone.
        if (replay && !e.isUpdate && e.operation !== "PUT") continue;
        if (e.operation === "PURGE") continue;
        const { op, object, createdRevision } = decodeEntry(e, transformer);
        // Created after the starting revision: ADDED, even when the create was folded into a
        // later update (the KV keeps one version per key).
        const createdSince = !replay && !seen.has(e.key) && createdRevision !== undefined && createdRevision > (from ?? 0);
        const type = e.operation === "DEL" || op === "d" ? "DELETED" : replay && !e.isUpdate ? "ADDED" : op === "c" || createdSince ? "ADDED" : "MODIFIED";
        if (type === "DELETED") seen.delete(e.key);
        else seen.add(e.key);
        yield { type, object: remember(object, createdRevision) as ResourceTypes[R], revision: e.revision, createdRevision };
      }
    }
  }

  /**
   * Every change to the bucket after `fromRevision` (exclusive), objects decoded: the watch
   * cache's one feed. Writes to keys that are not objects (leases, the store's record) come as
   * bare revisions, so the cache's revision follows the bucket's.
   */
  async watchBucket(fromRevision: number): Promise<BucketWatch> {
    const { source, stop, finish } = await this.openWatch(">", fromRevision, "the bucket");
    const remember = (o: AnyObject, c: number | undefined) => this.remember(o, c);
    // Read at each event (not captured here): Secrets are decrypted with the store's transformer.
    const transformer = () => this.transformer;
    async function* events(): AsyncGenerator<BucketEvent> {
      for await (const e of source) {
        if (e.key.startsWith("_") || e.operation === "PURGE") {
          yield { key: e.key, revision: e.revision };
          continue;
        }
        const env = e.json() as Envelope;
        const { object, createdRevision, unreadable } = decodeForCache(e.key, env, e.revision, transformer());
        const op = env.op;
        // A create folded into a later update (two versions kept per key, a lagging reader) comes
        // as MODIFIED of an unknown key: the cache, which knows its keys, makes it an ADDED.
        const type = e.operation === "DEL" || op === "d" ? "DELETED" : op === "c" ? "ADDED" : "MODIFIED";
        yield { key: e.key, resource: parseStoreKey(e.key).resource, type, object: unreadable ? object : remember(object, createdRevision), revision: e.revision, createdRevision };
      }
    }
    return {
      stop,
      [Symbol.asyncIterator]: () => drained(events(), stop, finish),
    };
  }

  /**
   * A KV watch of `keyFilter` (every current value first when `from` is undefined, else the
   * changes after it), hedged (see CONSUMER_HEDGE_MS) and probed (see WATCH_PROBE_MS).
   * `finish()`, called when the source ends, throws the stall error if the probe ended it.
   */
  private async openWatch(keyFilter: string, from: number | undefined, what: string) {
    let iter;
    for (let round = 1; ; round++) {
      try {
        iter = await hedged(
          this.timed(() => this.kvWatch.watch({
            key: keyFilter,
            ...(from === undefined ? { ignoreDeletes: false } : { resumeFromRevision: from + 1 }),
          })),
          (extra) => extra.stop(),
          this.hedgeMs(),
        );
        break;
      } catch (e) {
        if (round >= 2 || !isTimeout(e)) throw storeError(e);
      }
    }
    const source = iter;
    // The liveness probe (see WATCH_PROBE_MS): the watch's consumer must answer an info request.
    const consumer = (iter as unknown as { _data?: { info(cached?: boolean): Promise<unknown> } })._data;
    let stalled: ApiError | undefined;
    let misses = 0;
    const probe = consumer && setInterval(() => {
      consumer.info(false).then(() => (misses = 0), (e) => {
        if (!isTimeout(e) && !/consumer not found/i.test(String(e))) return;
        if (++misses < WATCH_PROBE_MISSES || stalled) return;
        stalled = new ApiError("ServiceUnavailable", `store watch of ${what} stalled: its JetStream consumer does not answer (${String(e)})`);
        clearInterval(probe);
        source.stop();
      });
    }, WATCH_PROBE_MS);
    return {
      source,
      stop: () => {
        clearInterval(probe);
        source.stop();
      },
      finish: () => {
        if (stalled) throw stalled;
      },
    };
  }

  /** Moving average of how long a consumer create takes when it answers (ms). */
  private createMs = 10;

  /** Wraps a consumer create so that its answer time feeds `createMs`. */
  private timed<T>(create: () => Promise<T>): () => Promise<T> {
    return async () => {
      const t0 = Date.now();
      const v = await create();
      this.createMs = 0.8 * this.createMs + 0.2 * (Date.now() - t0);
      return v;
    };
  }

  /**
   * When to start a hedge: well past what an answering create takes now. On a busy machine
   * creates slow down for everyone, and a fixed 300 ms would double the load exactly then.
   */
  private hedgeMs(): number {
    return Math.min(2_000, Math.max(CONSUMER_HEDGE_MS, 4 * this.createMs));
  }

  /** The revision that created `obj`, for an object this store returned (else undefined). */
  createdRevisionOf(obj: AnyObject): number | undefined {
    return this.created.get(obj);
  }

  private remember<T extends AnyObject>(obj: T, createdRevision: number | undefined): T {
    if (createdRevision) this.created.set(obj, createdRevision);
    return obj;
  }

  /** The newest revision in the bucket (0 when empty). */
  async lastRevision(): Promise<number> {
    try {
      const st = await this.kv.status();
      return st.streamInfo.state.last_seq;
    } catch (e) {
      throw storeError(e);
    }
  }

  /**
   * Writes the progress marker and returns its revision: a watch of the bucket that has seen it
   * has seen every write before it (the watch cache's consistent reads, see watch_cache.ts).
   */
  async markProgress(): Promise<number> {
    try {
      return await this.kv.put(STORE_PROGRESS_KEY, "{}");
    } catch (e) {
      throw storeError(e);
    }
  }

  /** The revision of the last compaction; watches cannot resume from before it. */
  async compactedRevision(): Promise<number> {
    const e = await this.kv.get(META_KEY).catch(() => null);
    if (!e || e.operation !== "PUT") return 0;
    return (e.json() as { compactedRevision?: number }).compactedRevision ?? 0;
  }

  /**
   * Purges tombstones older than `olderThanMs` and records the compaction point, like etcd's
   * compaction under kube-apiserver. Returns the new compacted revision.
   */
  async compact(olderThanMs = 0): Promise<number> {
    const revision = await this.lastRevision();
    await this.kv.put(META_KEY, JSON.stringify({ compactedRevision: revision, at: new Date().toISOString() }));
    this.lastPurged = await this.purgeTombstones(olderThanMs);
    return revision;
  }

  /** How many tombstones the last `compact` purged (for logs and tests). */
  lastPurged = 0;

  /**
   * Purges the keys whose last message is a delete marker older than `olderThanMs`, with at
   * most `concurrency` purge requests in flight. Not the KV client's `purgeDeletes`: that one
   * reads every kept version of every key and then sends one purge per tombstone all at once —
   * with tens of thousands of tombstones, a flood that kept nats-server busy for minutes and
   * made ordinary requests time out. This reads one message per key (headers only) and paces
   * the purges.
   */
  async purgeTombstones(olderThanMs = 0, concurrency = 16): Promise<number> {
    const stream = `KV_${this.bucket}`;
    const cutoffNs = BigInt(Date.now() - olderThanMs) * 1_000_000n;
    const doomed: { subject: string; seq: number }[] = [];
    try {
      const target = await this.lastRevision();
      if (target === 0) return 0;
      const c = await this.jsConsumers.consumers.get(stream, {
        filter_subjects: kvSubject(this.bucket, ">"),
        deliver_policy: DeliverPolicy.LastPerSubject,
        headers_only: true,
      });
      try {
        const info = await c.info(true);
        if (info.num_pending > 0) {
          const msgs = await c.consume();
          const stall = setTimeout(() => void msgs.close().catch(() => {}), LIST_READ_TIMEOUT_MS);
          try {
            for await (const m of msgs) {
              const op = m.headers?.get("KV-Operation");
              if ((op === "DEL" || op === "PURGE") && BigInt(m.info.timestampNanos) < cutoffNs) doomed.push({ subject: m.subject, seq: m.seq });
              if (m.seq >= target || m.info.pending === 0) break;
            }
          } finally {
            clearTimeout(stall);
            await msgs.close().catch(() => {});
          }
        }
      } finally {
        void c.delete().catch(() => {});
      }
      const jsm = await jetstreamManager(this.nc);
      let next = 0;
      let purged = 0;
      const worker = async () => {
        while (next < doomed.length) {
          const { subject, seq } = doomed[next++];
          // Everything of the key up to and including the marker goes; a version written after
          // we read the marker (the name used again) has a higher sequence and stays.
          if (await this.purgeKey(jsm, stream, subject, seq)) purged++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, doomed.length) }, worker));
      return purged;
    } catch (e) {
      throw storeError(e);
    }
  }

  /** Purges one key's messages up to `seq`; true when something was purged. (A method of its own so tests can watch the pacing.) */
  private async purgeKey(jsm: Awaited<ReturnType<typeof jetstreamManager>>, stream: string, subject: string, seq: number): Promise<boolean> {
    const r = await jsm.streams.purge(stream, { filter: subject, seq: seq + 1 });
    return r.purged > 0;
  }

  private key(resource: Resource, obj: AnyObject): string {
    return storeKey(resource, obj.metadata.namespace, obj.metadata.name);
  }
}

function encode(env: Envelope): string {
  return JSON.stringify(env);
}

function decodeEntry(e: KvEntry, t?: ValueTransformer): Envelope & { object: AnyObject; createdRevision?: number } {
  const env = e.json() as Envelope;
  try {
    return { ...env, ...fromEnvelope(env, e.revision, t) };
  } catch (err) {
    if (typeof env.o !== "string") throw err;
    throw new UnreadableObjectError(e.key, (err as Error).message);
  }
}

/**
 * A stored value this API server cannot read: it is encrypted and no configured key opens it
 * (a lost or removed key, a damaged value). Kubernetes calls such an object corrupt; as there, it
 * can be deleted only with `ignoreStoreReadErrorWithClusterBreakingPotential` (KvStore.deleteUnreadable).
 */
export class UnreadableObjectError extends ApiError {
  readonly resource: Resource;
  readonly namespace?: string;
  readonly objectName: string;
  constructor(key: string, readonly why: string) {
    const { resource, namespace, name } = parseStoreKey(key);
    super("InternalError", `${resource} "${namespace ? `${namespace}/` : ""}${name}" cannot be read: ${why}`, { name, kind: resource });
    this.resource = resource as Resource;
    this.namespace = namespace;
    this.objectName = name;
  }
}

/** The object an envelope stored at revision `seq` holds (resourceVersion = seq), and the revision that created it. */
function fromEnvelope(env: Envelope, seq: number, t?: ValueTransformer): { object: AnyObject; createdRevision?: number } {
  const o = typeof env.o === "string" ? (t ? t.open(env.o) : unreadable(env.o)) : env.o;
  // Just decoded, so no one else holds it: its resourceVersion is set in place (a copy of every
  // object read or watched was 4 % of a write's CPU).
  o.metadata.resourceVersion = String(seq);
  return { object: o, createdRevision: env.op === "c" ? seq : env.c };
}

/** The stand-ins made by decodeForCache, and why each could not be read. */
const standIns = new WeakMap<AnyObject, string>();

/**
 * Why a watch cache object is only a stand-in for a stored value this server cannot decrypt (a
 * Secret sealed with a key its encryption configuration lacks), or undefined for a real object.
 */
export function unreadableReason(o: AnyObject): string | undefined {
  return standIns.get(o);
}

/**
 * What the watch cache's feed (the initial list and the bucket watch) makes of an entry: the
 * object, or — when its encrypted value cannot be opened here — a stand-in carrying only the
 * key's name and namespace (see unreadableReason). One unreadable Secret must
 * not stop the one feed every resource is served from; the cache refuses lists that would
 * include it, as kube-apiserver fails a list of a resource holding an undecryptable object,
 * while every other resource is served as usual.
 */
function decodeForCache(key: string, env: Envelope, seq: number, t?: ValueTransformer): { object: AnyObject; createdRevision?: number; unreadable?: true } {
  try {
    return fromEnvelope(env, seq, t);
  } catch (e) {
    if (typeof env.o !== "string") throw e;
    const { namespace, name } = parseStoreKey(key);
    const object = { apiVersion: "v1", kind: "Unreadable", metadata: { name, ...(namespace ? { namespace } : {}), resourceVersion: String(seq) } } as unknown as AnyObject;
    standIns.set(object, (e as Error).message);
    return { object, createdRevision: env.op === "c" ? seq : env.c, unreadable: true };
  }
}

function unreadable(_o: string): never {
  throw new ApiError("InternalError", "a stored value is encrypted and this API server has no encryption configuration to read it");
}

function strip<T extends AnyObject>(obj: T): T {
  if (obj.metadata.resourceVersion === undefined) return obj;
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function withRevision<T extends AnyObject>(obj: T, rev: number): T {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } };
}

function isTimeout(e: unknown): boolean {
  const name = (e as { name?: string } | undefined)?.name ?? "";
  const message = (e as { message?: string } | undefined)?.message ?? "";
  return name === "TimeoutError" || /timeout/i.test(message);
}

function isWrongLastSequence(e: unknown): boolean {
  return e instanceof JetStreamApiError && WRONG_LAST_SEQUENCE.has(e.code);
}

/** Store failures that are not API outcomes become a retryable 503 (a full bucket: StoreFullError). */
function storeError(e: unknown): Error {
  if (e instanceof ApiError) return e;
  if (/maximum bytes exceeded|insufficient resources/i.test(e instanceof Error ? e.message : String(e))) return new StoreFullError(e);
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError("ServiceUnavailable", `object store unavailable: ${message}`, undefined, { cause: e });
}

export { parseStoreKey };

/**
 * Purges tombstones older than `everyMs` every `everyMs` (Kubernetes compacts etcd every 5
 * minutes); returns the function that stops it. One process per store should run it: the
 * single-process cluster, or the leading control-plane copy.
 */
export function compactPeriodically(store: KvStore, everyMs: number, log: (msg: string, fields?: Record<string, unknown>) => void): () => void {
  if (everyMs <= 0) return () => {};
  const timer = setInterval(() => {
    store.compact(everyMs).then(
      (rev) => log("store compacted", { revision: rev }),
      // A failed compaction only delays reclaiming space; the next round tries again.
      (e) => log("store compaction failed", { error: String(e) }),
    );
  }, everyMs);
  return () => clearInterval(timer);
}

/** Iterates a store watch's decoded events; `finish` when the source ends, `stop` always. */
async function* drained<T>(events: AsyncGenerator<T>, stop: () => void, finish: () => void): AsyncGenerator<T> {
  try {
    yield* events;
    finish();
  } finally {
    stop();
  }
}
