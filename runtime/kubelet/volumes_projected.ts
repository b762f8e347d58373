/**
 * ConfigMap, Secret, downward API and projected volumes: directories on the node, written with
 * the atomic `..data` swap (atomic_writer.ts) and bind-mounted read-only into the containers, so
 * an edit of the object (or of the pod's labels/annotations, or a renewed token) reaches running
 * containers in place.
 *
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~configmap/<volume>/
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~secret/<volume>/         a tmpfs mount of its own
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~downward-api/<volume>/
 *   <podsDir>/<pod uid>/volumes/kubernetes.io~projected/<volume>/      tmpfs when it holds a Secret or a token
 *   <podsDir>/<pod uid>/volumes/berth~service-account-token/kube-api-access/  a tmpfs mount of its own
 *
 * as the kubelet lays them out. The last is the ServiceAccount token volume every pod gets
 * (service_account_token.ts decides and fetches, and says why it lives apart; it is written here
 * like the others, and only when its files changed). A projected volume's `serviceAccountToken`
 * sources get their tokens from the same `PodTokens`, renewed by the same refresh. Secret and
 * token volumes live on tmpfs (a `mount -t tmpfs` on the node, as the kubelet does; Docker's own
 * `--tmpfs` cannot be written from the host, so it cannot be updated in place). When the node
 * agent may not mount (not root), it falls back to a plain directory and says so once in the
 * log. `cleanup` unmounts and removes a pod's directory; `collect` does it for every pod
 * directory no pod wants (nothing is leaked when pods go). The steps of one pod (its containers'
 * set-ups, the refresh, the clean-up) run one at a time: two writers swapping one `..data` at
 * once would trip over each other's `..data_tmp`.
 *
 * Which files a volume holds is volume_files.ts's (pure and unit-tested).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Log } from "../../model/log.ts";
import { ROOT_CA_CONFIGMAP } from "../../model/pod_references.ts";
import type { ConfigMap, Pod, Volume } from "../../model/types.ts";
import { type ProjectedFile, writeAtomic } from "./atomic_writer.ts";
import { type ConfigObjects, type DownwardFields, fetchConfigObjects, type ConfigLookup } from "./env.ts";
import { type PodTokens, projectionTokenSpec, TOKEN_VOLUME, TOKEN_VOLUME_PLUGIN, tokenVolumeFiles } from "./service_account_token.ts";
import { holdsSecrets, volumeFiles } from "./volume_files.ts";
import { NO_SIGNING_KEY } from "../api/token_request.ts";

const run = promisify(execFile);

/** The kinds of volume written here, as the kubelet's plugins name them on disk. */
export type ProjectedKind = "configmap" | "secret" | "downward-api" | "projected";

/** Which projected kind a volume is, if any. */
export function projectedKind(v: Volume): ProjectedKind | undefined {
  if (v.configMap) return "configmap";
  if (v.secret) return "secret";
  if (v.downwardAPI) return "downward-api";
  if (v.projected) return "projected";
  return undefined;
}

/** The host directory of one of the pod's projected volumes. */
export function projectedDir(podsDir: string, podUid: string, kind: ProjectedKind, volume: string): string {
  return join(podsDir, podUid, "volumes", `kubernetes.io~${kind}`, volume);
}

/** The host directory of the pod's ServiceAccount token volume (apart from its own volumes). */
export function tokenVolumeDir(podsDir: string, podUid: string): string {
  return join(podsDir, podUid, "volumes", TOKEN_VOLUME_PLUGIN, TOKEN_VOLUME);
}

/** The FailedMount message of a volume that could not be set up, in the kubelet's words. */
export function mountFailed(volume: string, why: string): string {
  return `MountVolume.SetUp failed for volume "${volume}" : ${why}`;
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
   * still read and the mount still planned, so the API sees what a real node asks of it. The same
   * holds for a projected volume with a `serviceAccountToken` source: its tokens are requested and
   * its objects read, its files not written.
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
    return tokenVolumeDir(this.opts.podsDir, uid);
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
      const tokens = await this.projectionTokens(pod, v);
      if (typeof tokens === "string") return mountFailed(v.name, tokens);
      const r = volumeFiles(pod, v, await objects(), fields, tokens);
      if (r.type === "error") return mountFailed(v.name, r.message);
      if (tokens.size > 0 && this.opts.tokenFiles === false) continue;
      const dir = this.dir(pod, v)!;
      if (holdsSecrets(v)) await this.mountTmpfs(dir);
      await writeAtomic(dir, r.files);
    }
    if (this.opts.tokens) return await this.ensureToken(pod, this.opts.tokens, objects);
    return undefined;
  }

  /**
   * The tokens of a projected volume's `serviceAccountToken` sources, by source index (held, or
   * asked for when due), or why one cannot be had. A token is never optional: without a signing
   * key at the API, or without `PodTokens` on this node, the volume cannot be set up.
   */
  private async projectionTokens(pod: Pod, v: Volume): Promise<Map<number, string> | string> {
    const out = new Map<number, string>();
    const wanted = (v.projected?.sources ?? []).flatMap((s, i) => (s.serviceAccountToken ? [[i, projectionTokenSpec(s.serviceAccountToken)] as const] : []));
    if (wanted.length === 0) return out;
    const tokens = this.opts.tokens;
    if (!tokens) return "failed to fetch token: this node requests no service account tokens";
    const got = await Promise.all(wanted.map(([, spec]) => tokens.token(pod, spec)));
    for (const [j, r] of got.entries()) {
      if (r.type === "error") return r.message;
      if (r.type === "noSigningKey") return `failed to fetch token: ${NO_SIGNING_KEY}`;
      out.set(wanted[j][0], r.token);
    }
    return out;
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
    const dir = tokenVolumeDir(this.opts.podsDir, uid);
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
