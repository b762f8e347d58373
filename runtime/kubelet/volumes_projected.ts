/**
 * ConfigMap, Secret and downward API volumes: directories on the node, written with the
 * atomic `..data` swap (atomic_writer.ts) and bind-mounted read-only into the containers, so an
 * edit of the object (or of the pod's labels/annotations) reaches running containers in place.
 *
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~configmap/<volume>/
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~secret/<volume>/      a tmpfs mount of its own
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~downward-api/<volume>/
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~projected/kube-api-access/  a tmpfs mount of its own
 *
 * as the kubelet lays them out. The last is the ServiceAccount token volume every pod gets
 * (service_account_token.ts decides and fetches; it is written here like the others, and only
 * when its files changed). Secret and token volumes live on tmpfs (a `mount -t tmpfs` on the
 * node, as the kubelet does; Docker's own `--tmpfs` cannot be written from the host, so it cannot
 * be updated in place). When the node agent may not mount (not root), it falls back to a plain
 * directory and says so once in the log. `cleanup` unmounts and removes a pod's directory;
 * `collect` does it for every pod directory no pod wants (nothing is leaked when pods go). The
 * steps of one pod (its containers' set-ups, the refresh, the clean-up) run one at a time: two
 * writers swapping one `..data` at once would trip over each other's `..data_tmp`.
 *
 * `volumeFiles` — which files a volume holds — is pure and unit-tested.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Log } from "../../model/log.ts";
import { ROOT_CA_CONFIGMAP } from "../../model/pod_references.ts";
import type { ConfigMap, KeyToPath, Pod, Volume } from "../../model/types.ts";
import { type ProjectedFile, writeAtomic } from "./atomic_writer.ts";
import { type ConfigObjects, type DownwardFields, fetchConfigObjects, fieldValue, type ConfigLookup, resourceValue } from "./env.ts";
import { type PodTokens, TOKEN_VOLUME, tokenVolumeFiles } from "./service_account_token.ts";

const run = promisify(execFile);

/** `projected`: the ServiceAccount token volume (not one of the pod's own volumes). */
export type ProjectedKind = "configmap" | "secret" | "downward-api" | "projected";

/** Which projected kind a volume is, if any. */
export function projectedKind(v: Volume): ProjectedKind | undefined {
  if (v.configMap) return "configmap";
  if (v.secret) return "secret";
  if (v.downwardAPI) return "downward-api";
  return undefined;
}

/** The host directory of a projected volume. */
export function projectedDir(podsDir: string, podUid: string, kind: ProjectedKind, volume: string): string {
  return join(podsDir, podUid, "volumes", `kubernetes.io~${kind}`, volume);
}

export type FilesResult = { type: "ok"; files: ProjectedFile[] } | { type: "error"; message: string };

/** The FailedMount message of a volume that could not be set up, in the kubelet's words. */
export function mountFailed(volume: string, why: string): string {
  return `MountVolume.SetUp failed for volume "${volume}" : ${why}`;
}

const DEFAULT_MODE = 0o644;

function keyed(values: Record<string, Uint8Array>, items: KeyToPath[] | undefined, defaultMode: number, what: string, optional: boolean): FilesResult {
  if (!items || items.length === 0) {
    return { type: "ok", files: Object.keys(values).sort().map((k) => ({ path: k, content: values[k], mode: defaultMode })) };
  }
  const files: ProjectedFile[] = [];
  for (const it of items) {
    const v = values[it.key];
    if (v === undefined) {
      if (optional) continue;
      return { type: "error", message: `${what} references non-existent config key: ${it.key}` };
    }
    files.push({ path: it.path, content: v, mode: it.mode ?? defaultMode });
  }
  return { type: "ok", files };
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

/** The files of one projected volume of `pod`, or why it cannot be set up (FailedMount). */
export function volumeFiles(pod: Pod, v: Volume, objs: ConfigObjects, fields: DownwardFields): FilesResult {
  if (v.configMap) {
    const src = v.configMap;
    const cm = objs.configmaps.get(src.name) ?? null;
    const mode = src.defaultMode ?? DEFAULT_MODE;
    if (!cm) return src.optional ? { type: "ok", files: [] } : { type: "error", message: `configmap "${src.name}" not found` };
    const values: Record<string, Uint8Array> = {};
    for (const [k, s] of Object.entries(cm.data ?? {})) values[k] = utf8(s);
    for (const [k, s] of Object.entries(cm.binaryData ?? {})) values[k] = b64(s);
    return keyed(values, src.items, mode, "configmap", !!src.optional);
  }
  if (v.secret) {
    const src = v.secret;
    const s = objs.secrets.get(src.secretName) ?? null;
    const mode = src.defaultMode ?? DEFAULT_MODE;
    if (!s) return src.optional ? { type: "ok", files: [] } : { type: "error", message: `secret "${src.secretName}" not found` };
    const values: Record<string, Uint8Array> = {};
    for (const [k, d] of Object.entries(s.data ?? {})) values[k] = b64(d);
    return keyed(values, src.items, mode, "secret", !!src.optional);
  }
  if (v.downwardAPI) {
    const mode = v.downwardAPI.defaultMode ?? DEFAULT_MODE;
    const files: ProjectedFile[] = [];
    for (const it of v.downwardAPI.items ?? []) {
      let value: string | undefined;
      if (it.fieldRef) value = fieldValue(pod, it.fieldRef.fieldPath, fields);
      else if (it.resourceFieldRef) {
        const c = pod.spec.containers.find((x) => x.name === it.resourceFieldRef!.containerName) ?? pod.spec.containers[0];
        value = resourceValue(pod, c, it.resourceFieldRef, fields);
      }
      if (value === undefined) return { type: "error", message: `downwardAPI item ${it.path}: unsupported field` };
      files.push({ path: it.path, content: utf8(value), mode: it.mode ?? mode });
    }
    return { type: "ok", files };
  }
  return { type: "ok", files: [] };
}

export interface ProjectedVolumesOptions {
  /** Where pod directories live on the node (the kubelet's `/var/lib/kubelet/pods`). */
  podsDir: string;
  lookup: ConfigLookup;
  /** Put Secret and token volumes on tmpfs (default: when running as root). */
  tmpfs?: boolean;
  /** ServiceAccount tokens for pods (service_account_token.ts). Absent: no pod gets a token volume. */
  tokens?: PodTokens;
  /**
   * Write the token volume's files (default true). false on hollow nodes: their containers read
   * nothing, and every pod has this volume — writing them took a 5,000-pod bench/schedule.ts run
   * from 7 s to 13-17 s to all Running and doubled its CPU. The token is still requested, the CA
   * still read and the mount still planned, so the API sees what a real node asks of it.
   */
  tokenFiles?: boolean;
  log?: Log;
}

/** The node's projected volumes: writes, refreshes and removes them. */
export class ProjectedVolumes {
  private readonly tmpfs: boolean;
  private warned = false;
  /** Pods cleaned up: a refresh racing the cleanup must not make their directories again. */
  private readonly closed = new Set<string>();
  /** Each pod's step under way (ensure, cleanup): the next one of that pod waits for it. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Pod uid → a digest of what its token volume holds now (an unchanged refresh writes nothing). */
  private readonly tokenWritten = new Map<string, string>();

  constructor(private readonly opts: ProjectedVolumesOptions) {
    this.tmpfs = opts.tmpfs ?? (typeof process.getuid === "function" && process.getuid() === 0);
  }

  /** Where Secret volumes live: `tmpfs` or `disk` (see the file comment). */
  get secretMedium(): "tmpfs" | "disk" {
    return this.tmpfs && !this.warned ? "tmpfs" : "disk";
  }

  dir(pod: Pod, v: Volume): string | undefined {
    const kind = projectedKind(v);
    return kind ? projectedDir(this.opts.podsDir, pod.metadata.uid ?? pod.metadata.name, kind, v.name) : undefined;
  }

  /**
   * The host directory of the pod's ServiceAccount token volume once it is in place (after an
   * `ensure` that succeeded); undefined for a pod without one.
   */
  tokenDir(pod: Pod): string | undefined {
    const uid = pod.metadata.uid ?? pod.metadata.name;
    if (this.opts.tokens?.decided(uid) !== true || !this.tokenWritten.has(uid)) return undefined;
    return projectedDir(this.opts.podsDir, uid, "projected", TOKEN_VOLUME);
  }

  /** True when the pod has a token volume (so the refresh loop keeps its token and CA current). */
  hasTokenVolume(uid: string): boolean {
    return this.opts.tokens?.decided(uid) === true;
  }

  /**
   * Writes (or refreshes) every projected volume of the pod, its ServiceAccount token volume
   * last. Resolves undefined when all are in place, or the FailedMount message of the first that
   * is not (e.g. `configmap "x" not found`). `objs`: the pod's ConfigMaps and Secrets if already
   * fetched.
   */
  ensure(pod: Pod, fields: DownwardFields, objs?: ConfigObjects): Promise<string | undefined> {
    return this.serialized(pod.metadata.uid ?? pod.metadata.name, () => this.ensureNow(pod, fields, objs));
  }

  private async ensureNow(pod: Pod, fields: DownwardFields, objs?: ConfigObjects): Promise<string | undefined> {
    const vols = (pod.spec.volumes ?? []).filter((v) => projectedKind(v));
    if ((vols.length === 0 && !this.opts.tokens) || this.closed.has(pod.metadata.uid ?? pod.metadata.name)) return undefined;
    let fetched = objs;
    const objects = async () => (fetched ??= await fetchConfigObjects(pod, this.opts.lookup));
    for (const v of vols) {
      const r = volumeFiles(pod, v, await objects(), fields);
      if (r.type === "error") return mountFailed(v.name, r.message);
      const dir = this.dir(pod, v)!;
      if (v.secret) await this.mountTmpfs(dir);
      await writeAtomic(dir, r.files);
    }
    if (this.opts.tokens) return await this.ensureToken(pod, this.opts.tokens, objects);
    return undefined;
  }

  /** The token volume: decided, its token held or renewed, the CA read, written when changed. */
  private async ensureToken(pod: Pod, tokens: PodTokens, objects: () => Promise<ConfigObjects>): Promise<string | undefined> {
    const uid = pod.metadata.uid ?? pod.metadata.name;
    const decision = await tokens.automount(pod);
    if (decision.type === "skip") return undefined;
    if (decision.type === "error") return mountFailed(TOKEN_VOLUME, decision.message);
    const token = await tokens.token(pod);
    if (token.type === "noSigningKey") return undefined;
    if (token.type === "error") return mountFailed(TOKEN_VOLUME, token.message);
    const o = await objects();
    // The pod's references name the CA's ConfigMap (model/pod_references.ts); read it when they did not.
    const ca = o.configmaps.has(ROOT_CA_CONFIGMAP)
      ? o.configmaps.get(ROOT_CA_CONFIGMAP) ?? null
      : ((await this.opts.lookup("configmaps", pod.metadata.namespace ?? "default", ROOT_CA_CONFIGMAP)) as ConfigMap | null);
    const r = tokenVolumeFiles(pod, token.token, ca);
    if (r.type === "error") return mountFailed(TOKEN_VOLUME, r.message);
    const digest = filesDigest(r.files);
    if (this.tokenWritten.get(uid) === digest || this.closed.has(uid)) return undefined;
    if (this.opts.tokenFiles === false) {
      this.tokenWritten.set(uid, digest);
      return undefined;
    }
    const dir = projectedDir(this.opts.podsDir, uid, "projected", TOKEN_VOLUME);
    await this.mountTmpfs(dir);
    await writeAtomic(dir, r.files);
    this.tokenWritten.set(uid, digest);
    return undefined;
  }

  /** Runs `fn` once every earlier step of pod `uid` has ended (however it ended). */
  private serialized<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.queues.get(uid) ?? Promise.resolve()).then(fn, fn);
    const tail = next.then(() => {}, () => {});
    this.queues.set(uid, tail);
    void tail.then(() => {
      if (this.queues.get(uid) === tail) this.queues.delete(uid);
    });
    return next;
  }

  private async mountTmpfs(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if (!this.tmpfs || this.warned) return;
    if ((await mountsUnder(dir)).includes(dir)) return;
    try {
      await run("mount", ["-t", "tmpfs", "-o", "mode=0755,size=64m", "tmpfs", dir]);
    } catch (e) {
      this.warned = true;
      this.opts.log?.("secret volumes are written to disk: mounting tmpfs failed", { error: String(e) });
    }
  }

  /**
   * An empty file for one attempt of a container to write its termination message to, as the
   * kubelet makes one (`<podsDir>/<pod uid>/containers/<name>/<attempt>`, writable by any user):
   * it is bind-mounted at the container's terminationMessagePath. Removed with the pod.
   */
  async terminationLog(podUid: string, container: string, attempt: number): Promise<string | undefined> {
    // A pod cleaned up meanwhile gets no directory again (its container start is moot).
    if (this.closed.has(podUid)) return undefined;
    const dir = join(this.opts.podsDir, podUid, "containers", container);
    await mkdir(dir, { recursive: true });
    // The attempt and a random tail: a container made again under the same count gets a file of its own.
    const file = join(dir, `${attempt}-${Math.random().toString(36).slice(2, 8)}`);
    await writeFile(file, "");
    await chmod(file, 0o666);
    return file;
  }

  /**
   * Unmounts and removes everything of one pod, after a set-up of it under way. Safe when
   * nothing was ever made.
   */
  cleanup(podUid: string): Promise<void> {
    // At once, not in turn: a set-up queued behind the one under way must not write again.
    this.closed.add(podUid);
    return this.serialized(podUid, async () => {
      this.opts.tokens?.forget(podUid);
      this.tokenWritten.delete(podUid);
      const base = join(this.opts.podsDir, podUid);
      for (const m of (await mountsUnder(base)).sort().reverse()) {
        await run("umount", ["-l", m]).catch((e) => this.opts.log?.("umount failed", { path: m, error: String(e) }));
      }
      await rm(base, { recursive: true, force: true });
    });
  }

  /** Removes the directories of pods no one wants (after an agent restart, a lost cleanup). */
  async collect(wants: (uid: string) => boolean): Promise<void> {
    // What is held in memory for pods that are gone, whether or not they left a directory.
    this.opts.tokens?.prune(wants);
    for (const uid of [...this.tokenWritten.keys()]) if (!wants(uid)) this.tokenWritten.delete(uid);
    let uids: string[];
    try {
      uids = await readdir(this.opts.podsDir);
    } catch {
      return;
    }
    for (const uid of uids) if (!wants(uid)) await this.cleanup(uid);
  }
}

/** A digest of a volume's files (paths, modes, bytes), to tell an unchanged version in memory. */
function filesDigest(files: ProjectedFile[]): string {
  const h = createHash("sha256");
  for (const f of files) h.update(`${f.path}\0${f.mode}\0${f.content.length}\0`).update(f.content);
  return h.digest("base64");
}

/** Mount points at or under `path` (from /proc/self/mountinfo; empty where there is none). */
async function mountsUnder(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const mp = line.split(" ")[4];
    if (!mp) continue;
    const p = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === path || p.startsWith(path + "/")) out.push(p);
  }
  return out;
}
