/**
 * An in-memory `ContainerRuntime` for scale tests (kubemark's hollow node: the node and pod actors
 * are the real ones, only the engine is fake). Containers are records; nothing runs.
 *
 * Scripted by the pod's annotations:
 *   berth.dev/hollow-run-for      seconds a started container runs before it exits (absent: forever)
 *   berth.dev/hollow-exit-code    its exit code then (default 0)
 *   berth.dev/hollow-start-error  starting fails with this message (exit code 128)
 *   berth.dev/hollow-probe-fail   "true": exec returns 1 and network probes fail
 *   berth.dev/hollow-cpu          the cpu each app container reports using ("250m"; absent: 1-50m)
 *   berth.dev/hollow-memory       its memory working set ("64Mi"; absent: 4-64 MiB)
 * Images: all present, unless `images` is given (then only those). A pull makes the image
 * present when the fake registry has it: every image without `images`; with `images`, only
 * those in `pullable` (none when absent). Otherwise `ImagePullError` (manifest unknown).
 * Pod IPs come from 10.254.0.0/16; host ports count up from 40000. Neither is reachable.
 */
import {
  type Closeable,
  type ContainerInfo,
  ContainerNotFoundError,
  type ContainerRuntime,
  type ContainerSpec,
  ContainerStartError,
  type ContainerSummary,
  type ExecResult,
  type ImageInfo,
  ImageNotPresentError,
  ImagePullError,
  LABELS,
  type RegistryAuth,
  type LogChunk,
  type NetworkProbe,
  podLabels,
  portKey,
  type RuntimeEvent,
  RuntimeUnavailableError,
  type SandboxInfo,
  type PodRef,
  type SandboxSpec,
  type VolumeInfo,
} from "../../model/container_runtime.ts";
import { AsyncQueue } from "./streams.ts";
import { isQuantity, parseBytes, parseCpuMillis } from "../../model/quantity.ts";

export const HOLLOW_ANNOTATIONS = {
  runFor: "berth.dev/hollow-run-for",
  exitCode: "berth.dev/hollow-exit-code",
  startError: "berth.dev/hollow-start-error",
  probeFail: "berth.dev/hollow-probe-fail",
  cpu: "berth.dev/hollow-cpu",
  memory: "berth.dev/hollow-memory",
} as const;

interface HollowContainer {
  info: ContainerInfo;
  annotations: Record<string, string>;
  sandbox?: SandboxInfo;
  timer?: ReturnType<typeof setTimeout>;
  logs: string[];
}

function matches(labels: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/** The hollow runtime. `available = false` makes every call fail as if the engine were down. */
export class HollowRuntime implements ContainerRuntime {
  readonly kind = "hollow";
  available = true;
  private readonly containers = new Map<string, HollowContainer>();
  /**
   * Container ids by pod uid label, in creation order. The kubelet lists a pod's containers at
   * every sync; a scan of all of the node's containers made that quadratic in pods per node
   * (2 % of a 100-node, 5,000-pod bench run). Labels never change after creation.
   */
  private readonly byPod = new Map<string, Set<string>>();
  private readonly volumes = new Map<string, VolumeInfo>();
  private readonly subscribers = new Set<{ labels: Record<string, string>; q: AsyncQueue<RuntimeEvent> }>();
  private nextId = 1;
  private nextIp = 2;
  private nextPort = 40000;
  private readonly images?: Set<string>;
  private readonly pullable?: Set<string>;
  /** Every pull asked for, in order (for tests of the puller's deduplication). */
  readonly pulls: string[] = [];

  constructor(opts: { images?: string[]; pullable?: string[] } = {}) {
    this.images = opts.images ? new Set(opts.images.map(normalize)) : undefined;
    this.pullable = opts.pullable ? new Set(opts.pullable.map(normalize)) : opts.images ? new Set() : undefined;
  }

  private check(): void {
    if (!this.available) throw new RuntimeUnavailableError("hollow runtime made unavailable");
  }

  private get(id: string): HollowContainer {
    this.check();
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(id);
    return c;
  }

  private emit(type: RuntimeEvent["type"], c: HollowContainer): void {
    for (const s of this.subscribers) {
      if (matches(c.info.labels, s.labels)) s.q.push({ type, id: c.info.id, labels: c.info.labels });
    }
  }

  private newId(): string {
    return (this.nextId++).toString(16).padStart(12, "0") + "h".repeat(52);
  }

  /** Number of containers held (for scale tests and leak checks). */
  get size(): number {
    return this.containers.size;
  }

  async ping(): Promise<void> {
    this.check();
  }
  async version(): Promise<string> {
    this.check();
    return "hollow://0.1.0";
  }
  async hasImage(image: string): Promise<boolean> {
    this.check();
    return !this.images || this.images.has(normalize(image));
  }

  async inspectImage(image: string): Promise<ImageInfo | undefined> {
    if (!(await this.hasImage(image))) return undefined;
    return { id: `sha256:${hollowDigest(normalize(image))}`, repoDigests: [], size: 0 };
  }
  async pullImage(image: string, _auth?: RegistryAuth): Promise<void> {
    this.check();
    this.pulls.push(normalize(image));
    if (this.pullable && !this.pullable.has(normalize(image))) {
      throw new ImagePullError(image, `manifest for ${normalize(image)} not found: manifest unknown`, "notFound");
    }
    this.images?.add(normalize(image));
  }

  async createSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    this.check();
    const id = this.newId();
    const n = this.nextIp++;
    const hostPorts: Record<string, number> = {};
    for (const p of spec.ports) hostPorts[portKey(p.containerPort, p.protocol)] = this.nextPort++;
    const labels = { ...podLabels(spec.pod), [LABELS.role]: "infra", [LABELS.container]: "POD" };
    const sandbox: SandboxInfo = { id, running: true, ip: `10.254.${(n >> 8) & 255}.${n & 255}`, hostPorts, labels };
    const now = new Date().toISOString();
    this.add({
      info: { id, labels, image: "berth/busybox:latest", state: "running", running: true, exitCode: 0, oomKilled: false, startedAt: now },
      annotations: spec.pod.annotations ?? {},
      sandbox,
      logs: [],
    });
    this.emit("start", this.containers.get(id)!);
    return { ...sandbox, hostPorts: { ...hostPorts } };
  }

  async inspectSandbox(id: string): Promise<SandboxInfo> {
    const c = this.get(id);
    if (!c.sandbox) throw new ContainerNotFoundError(id);
    return { ...c.sandbox, running: c.info.running };
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    this.check();
    if (!(await this.hasImage(spec.image))) throw new ImageNotPresentError(spec.image);
    this.get(spec.sandboxId);
    const id = this.newId();
    const labels = {
      ...podLabels(spec.pod),
      [LABELS.role]: "app",
      [LABELS.container]: spec.name,
      [LABELS.restartCount]: String(spec.restartCount),
    };
    this.add({
      info: { id, labels, image: spec.image, state: "created", running: false, exitCode: 0, oomKilled: false, sandboxId: spec.sandboxId },
      annotations: spec.pod.annotations ?? {},
      logs: [],
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    const c = this.get(id);
    if (c.info.running) return;
    const startError = c.annotations[HOLLOW_ANNOTATIONS.startError];
    if (startError) {
      c.info = { ...c.info, exitCode: 128, error: startError };
      throw new ContainerStartError(startError, 128);
    }
    c.info = { ...c.info, state: "running", running: true, startedAt: new Date().toISOString(), finishedAt: undefined };
    c.logs.push(`started ${c.info.labels[LABELS.container]}\n`);
    this.emit("start", c);
    const runFor = Number(c.annotations[HOLLOW_ANNOTATIONS.runFor]);
    if (c.annotations[HOLLOW_ANNOTATIONS.runFor] !== undefined && Number.isFinite(runFor)) {
      const code = Number(c.annotations[HOLLOW_ANNOTATIONS.exitCode] ?? 0);
      c.timer = setTimeout(() => this.exit(c, code), runFor * 1000);
    }
  }

  private exit(c: HollowContainer, code: number): void {
    clearTimeout(c.timer);
    if (!c.info.running) return;
    c.info = { ...c.info, state: "exited", running: false, exitCode: code, finishedAt: new Date().toISOString() };
    if (c.sandbox) c.sandbox = { ...c.sandbox, running: false };
    this.emit("die", c);
  }

  async stopContainer(id: string, _graceSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    this.check();
    if (c) this.exit(c, 143);
  }

  async killContainer(id: string, _signal?: string): Promise<void> {
    const c = this.containers.get(id);
    this.check();
    if (c) this.exit(c, 137);
  }

  async removeContainer(id: string): Promise<void> {
    this.check();
    const c = this.containers.get(id);
    if (!c) return;
    this.exit(c, 137);
    this.containers.delete(id);
    const uid = c.info.labels[LABELS.podUid];
    const ids = uid === undefined ? undefined : this.byPod.get(uid);
    ids?.delete(id);
    if (ids?.size === 0) this.byPod.delete(uid!);
    this.emit("destroy", c);
  }

  /**
   * The usage a container's pod scripts (`berth.dev/hollow-cpu`, `berth.dev/hollow-memory`), for
   * the node's usage reports; each absent or unreadable figure is left to the reporter's own.
   */
  scriptedUsage(id: string): { cpuNanoCores?: number; memoryBytes?: number } {
    const c = this.containers.get(id);
    if (!c) return {};
    const out: { cpuNanoCores?: number; memoryBytes?: number } = {};
    const cpu = c.annotations[HOLLOW_ANNOTATIONS.cpu];
    const mem = c.annotations[HOLLOW_ANNOTATIONS.memory];
    if (cpu !== undefined && isQuantity(cpu)) out.cpuNanoCores = parseCpuMillis(cpu) * 1e6;
    if (mem !== undefined && isQuantity(mem)) out.memoryBytes = parseBytes(mem);
    return out;
  }

  async inspectContainer(id: string): Promise<ContainerInfo> {
    return { ...this.get(id).info };
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    this.check();
    const uid = labels[LABELS.podUid];
    const candidates = uid === undefined ? this.containers.values() : [...(this.byPod.get(uid) ?? [])].map((id) => this.containers.get(id)!);
    const out: ContainerSummary[] = [];
    for (const c of candidates) if (matches(c.info.labels, labels)) out.push({ id: c.info.id, labels: c.info.labels, state: c.info.state });
    return out;
  }

  private add(c: HollowContainer): void {
    this.containers.set(c.info.id, c);
    const uid = c.info.labels[LABELS.podUid];
    if (uid === undefined) return;
    let ids = this.byPod.get(uid);
    if (!ids) this.byPod.set(uid, (ids = new Set()));
    ids.add(c.info.id);
  }

  async exec(id: string, cmd: string[]): Promise<ExecResult> {
    const c = this.get(id);
    if (!c.info.running) throw new ContainerStartError(`container ${id} is not running`, 126);
    const fail = c.annotations[HOLLOW_ANNOTATIONS.probeFail] === "true";
    return { exitCode: fail ? 1 : 0, stdout: fail ? "" : `hollow exec: ${cmd.join(" ")}\n`, stderr: "" };
  }

  async logs(id: string): Promise<Closeable<LogChunk>> {
    const c = this.get(id);
    const q = new AsyncQueue<LogChunk>();
    for (const l of c.logs) q.push({ stream: "stdout", data: new TextEncoder().encode(l) });
    q.end();
    return q;
  }

  async events(labels: Record<string, string>): Promise<Closeable<RuntimeEvent>> {
    this.check();
    const sub = { labels, q: undefined as unknown as AsyncQueue<RuntimeEvent> };
    sub.q = new AsyncQueue<RuntimeEvent>(() => this.subscribers.delete(sub));
    this.subscribers.add(sub);
    return sub.q;
  }

  /** Ends every events stream with an error, as a Docker restart would. */
  dropEventStreams(): void {
    for (const s of this.subscribers) s.q.end(new RuntimeUnavailableError("hollow events dropped"));
    this.subscribers.clear();
  }

  async createVolume(name: string, labels: Record<string, string>, _owner?: PodRef): Promise<void> {
    this.check();
    if (!this.volumes.has(name)) this.volumes.set(name, { name, labels });
  }
  async removeVolume(name: string): Promise<void> {
    this.check();
    this.volumes.delete(name);
  }
  async listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]> {
    this.check();
    return [...this.volumes.values()].filter((v) => matches(v.labels, labels));
  }

  async probe(req: NetworkProbe): Promise<{ ok: boolean; message?: string }> {
    this.check();
    const fail = req.pod.annotations?.[HOLLOW_ANNOTATIONS.probeFail] === "true";
    return fail ? { ok: false, message: `hollow ${req.kind} probe scripted to fail` } : { ok: true };
  }

  /** Simulates a crash of one container (exit code `code`), as if its process died. */
  crash(id: string, code = 1): void {
    const c = this.containers.get(id);
    if (c) this.exit(c, code);
  }
}

/** A stable 64-hex stand-in for an image ID. */
function hollowDigest(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0").repeat(8);
}

function normalize(image: string): string {
  return image.includes(":") ? image : `${image}:latest`;
}
