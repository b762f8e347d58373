/**
 * `ContainerRuntime` on a real Docker engine through dockerode (Debian's docker.io, API 1.41).
 *
 * Layout on the engine:
 *   - one user-defined bridge network (default `berth0`, 10.213.0.0/16, gateway 10.213.0.1),
 *     labelled `berth.network=true`, created when absent and shared by every node agent on the
 *     engine; its gateway is where the cluster DNS can listen;
 *   - per pod, an infra container (`berth/busybox` running an idle shell loop that exits on
 *     SIGTERM) on that network, owning the published ports (`<hostIP>:<hostPort>:<port>` for a
 *     declared `hostPort`, `<hostIP>::<port>` — ephemeral — otherwise);
 *   - app containers with `NetworkMode: container:<infra>` so the pod shares one localhost.
 *
 * Pulls only when asked (`pullImage`, the kubelet's image puller decides); creating a container
 * from an absent image is an `ImageNotPresentError`. Connection failures become
 * `RuntimeUnavailableError` so callers can retry once the engine is back.
 */
import Docker from "dockerode";
import tar from "tar-stream";
import { chmod, type FileHandle, mkdir, open, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  type Closeable,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSecurity,
  type ContainerSpec,
  type ContainerStateName,
  type ContainerSummary,
  type DnsConfig,
  ContainerConfigError,
  ContainerNotFoundError,
  ContainerStartError,
  type ExecResult,
  type ExecStream,
  type ExecStreamOptions,
  type ImageInfo,
  ImageNotPresentError,
  ImagePullError,
  pullFailureKind,
  type PodRef,
  type RegistryAuth,
  LABELS,
  type LogChunk,
  podLabels,
  portKey,
  type RuntimeEvent,
  RuntimeError,
  RuntimeUnavailableError,
  type SandboxInfo,
  type SandboxSpec,
  type VolumeInfo,
} from "../../model/container_runtime.ts";
import { withDefaultTag } from "../../model/image.ts";
import { AsyncQueue, FrameDecoder, NdjsonDecoder } from "./streams.ts";
import { dockerAttach, dockerExecStream, reapStreamExecs } from "./docker_exec.ts";

/** The image of every infra container. */
export const INFRA_IMAGE = "berth/busybox:latest";
/** Idles until SIGTERM; `sleep & wait` keeps the shell interruptible so the trap runs at once. */
export const INFRA_COMMAND = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait; done"];

export interface BridgeNetwork {
  name: string;
  subnet: string;
  gateway: string;
}

/**
 * Applied to every container Berth creates (docs/security.md): a process cannot gain privileges
 * through setuid binaries, one pod's fork bomb cannot exhaust the host's PIDs, and a chatty
 * container cannot fill the disk with its log (kept at 3 × 10 MB, as the kubelet rotates at 10 MB).
 * Never privileged, never the host's network or PID namespace.
 */
export const CONTAINER_HARDENING = {
  SecurityOpt: ["no-new-privileges"],
  PidsLimit: 4096,
  LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
  Privileged: false,
} as const;

export const DEFAULT_NETWORK: BridgeNetwork = { name: "berth0", subnet: "10.213.0.0/16", gateway: "10.213.0.1" };

export interface DockerRuntimeOptions {
  /** An existing client; otherwise one is made from `socketPath` (default /var/run/docker.sock). */
  docker?: Docker;
  socketPath?: string;
  network?: BridgeNetwork;
  infraImage?: string;
  /**
   * Whether a new volume's mode may be set on the engine's own filesystem (default true: tried,
   * and through a helper container when that fails). false: always through the helper, as for
   * an engine on another machine.
   */
  volumeModeInPlace?: boolean;
}

interface DockerError {
  statusCode?: number;
  code?: string;
  json?: { message?: string };
  message?: string;
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ENOENT", "EPIPE", "ECONNRESET", "EAI_AGAIN", "ETIMEDOUT"]);

/** Maps a dockerode failure onto the runtime's error classes. */
export function translateError(e: unknown, what: string): Error {
  if (e instanceof RuntimeError) return e;
  const d = (e ?? {}) as DockerError;
  const msg = d.json?.message ?? d.message ?? String(e);
  if ((d.code && CONNECTION_CODES.has(d.code)) || /socket hang up|connect E/.test(msg)) {
    return new RuntimeUnavailableError(`docker engine unreachable during ${what}: ${msg}`, { cause: e });
  }
  if (d.statusCode === 404 && /No such container/i.test(msg)) return new ContainerNotFoundError(what, { cause: e });
  if (d.statusCode === 404 && /No such image|not found/i.test(msg) && /image/i.test(msg)) {
    return new ImageNotPresentError(msg.replace(/^.*No such image: /, ""), { cause: e });
  }
  return new RuntimeError(`docker ${what} failed: ${msg}`, (d.statusCode ?? 500) >= 500, { cause: e });
}

function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

function containerName(spec: { pod: { name: string; namespace: string; uid: string } }, container: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return `berth_${container}_${spec.pod.name}_${spec.pod.namespace}_${spec.pod.uid.slice(0, 8)}_${rand}`;
}

/** The CFS period the kubelet uses (100 ms), in microseconds. */
export const CPU_PERIOD_US = 100_000;

/**
 * A container's limits as Docker's HostConfig, the way the kubelet sets them on Docker: a CPU
 * limit becomes a CFS quota per 100 ms period (at least 1 ms), requests become `CpuShares`,
 * and a memory limit is `Memory` with `MemorySwap` equal to it (no swap beyond the limit), never
 * below the engine's 6 MiB minimum.
 */
export function resourceConfig(spec: Pick<ContainerSpec, "cpus" | "cpuShares" | "memoryBytes">): {
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuShares?: number;
  Memory?: number;
  MemorySwap?: number;
} {
  const out: ReturnType<typeof resourceConfig> = {};
  if (spec.cpus) {
    out.CpuPeriod = CPU_PERIOD_US;
    out.CpuQuota = Math.max(1000, Math.round(spec.cpus * CPU_PERIOD_US));
  }
  if (spec.cpuShares) out.CpuShares = spec.cpuShares;
  if (spec.memoryBytes) {
    out.Memory = Math.max(spec.memoryBytes, 6 * 1024 * 1024);
    out.MemorySwap = out.Memory;
  }
  return out;
}

/**
 * A container's securityContext as Docker's HostConfig (the user is the container's `User`):
 * supplementary groups, a read-only root filesystem, capabilities dropped, and seccomp off when
 * asked; every container keeps `no-new-privileges` (CONTAINER_HARDENING).
 */
export function securityConfig(security: ContainerSecurity | undefined): { GroupAdd?: string[]; ReadonlyRootfs?: boolean; CapDrop?: string[]; SecurityOpt?: string[] } {
  const out: ReturnType<typeof securityConfig> = {};
  if (!security) return out;
  if (security.groups?.length) out.GroupAdd = security.groups.map(String);
  if (security.readOnlyRootFilesystem) out.ReadonlyRootfs = true;
  if (security.dropCapabilities?.length) out.CapDrop = [...security.dropCapabilities];
  if (security.seccompUnconfined) out.SecurityOpt = [...CONTAINER_HARDENING.SecurityOpt, "seccomp=unconfined"];
  return out;
}

/**
 * The mode fsGroup gives a volume's top directory, from the engine's path stat (base64 JSON with
 * Go's FileMode): its permission and sticky bits, plus group read-write-search and setgid, as
 * the kubelet's SetVolumeOwnership adds them. 2775 when the stat is missing or unreadable.
 */
export function volumeModeWithGroup(statHeader: string | undefined): number {
  let perm = 0o755;
  let sticky = 0;
  try {
    const mode = Number((JSON.parse(Buffer.from(statHeader ?? "", "base64").toString("utf8")) as { mode?: unknown }).mode);
    if (Number.isFinite(mode)) {
      perm = mode & 0o777;
      sticky = mode & (1 << 20) ? 0o1000 : 0; // Go's os.ModeSticky
    }
  } catch {
    // No stat: the engine's default for a new volume.
  }
  return perm | 0o770 | 0o2000 | sticky;
}

/** A tar of one entry, the directory `v`: root-owned, group `gid`, mode `mode` (default 2775, rwxrwsr-x). */
export function volumeOwnershipTar(gid: number, mode = 0o2775): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: "v/", type: "directory", mode, uid: 0, gid, mtime: new Date() });
  pack.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on("data", (d: unknown) => chunks.push(d as Buffer));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
}

/**
 * A pod's resolver as the engine's sandbox settings; none: the engine's copy of the node's. The
 * engine takes an empty list as "the host's": "." is its way to write no search line, and
 * ndots:1 is the resolver's default, so a resolver without searches or options (dnsPolicy None)
 * gets neither from the host, as the kubelet writes it.
 */
export function engineDns(dns: DnsConfig | undefined): { Dns?: string[]; DnsSearch?: string[]; DnsOptions?: string[] } {
  if (!dns) return {};
  return { Dns: dns.servers, DnsSearch: dns.search.length ? dns.search : ["."], DnsOptions: dns.options.length ? dns.options : ["ndots:1"] };
}

/**
 * The labels of a helper container made for a volume: the volume's, and the pod's it is made for
 * (a claim volume's labels name no pod, and the container collector takes what names no pod for
 * an orphan).
 */
export function volumeHelperLabels(labels: Record<string, string>, owner: PodRef | undefined): Record<string, string> {
  return owner ? { ...labels, ...podLabels(owner) } : labels;
}

/** A bind's options: read-only, and rslave propagation (mountPropagation HostToContainer). */
function bindOptions(readOnly?: boolean, propagation?: "rslave"): string {
  const opts = [...(readOnly ? ["ro"] : []), ...(propagation ? [propagation] : [])];
  return opts.length ? `:${opts.join(",")}` : "";
}

/** Up to the last `max` bytes of a node file, as text (the kubelet's tail.ReadAtMost); "" when it is missing or unreadable. */
export async function readTail(path: string, max: number): Promise<string> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, "r");
    const { size } = await fh.stat();
    const start = Math.max(0, size - max);
    const buf = Buffer.alloc(Math.min(size, max));
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    return buf.subarray(0, bytesRead).toString("utf8");
  } catch {
    return "";
  } finally {
    await fh?.close();
  }
}

/** A volume mount's options that keep the engine from copying the image's files into an empty volume (the engine reads only NoCopy). */
const NO_COPY = { NoCopy: true } as Docker.MountSettings["VolumeOptions"];

/** The Docker implementation of `ContainerRuntime`. */
export class DockerRuntime implements ContainerRuntime {
  readonly kind = "docker";
  readonly docker: Docker;
  readonly network: BridgeNetwork;
  private readonly infraImage: string;
  private readonly volumeModeInPlace: boolean;
  private networkReady?: Promise<void>;

  constructor(opts: DockerRuntimeOptions = {}) {
    this.docker = opts.docker ?? new Docker({ socketPath: opts.socketPath ?? "/var/run/docker.sock" });
    this.network = opts.network ?? DEFAULT_NETWORK;
    this.infraImage = opts.infraImage ?? INFRA_IMAGE;
    this.volumeModeInPlace = opts.volumeModeInPlace ?? true;
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw translateError(e, what);
    }
  }

  async ping(): Promise<void> {
    await this.call("ping", () => this.docker.ping());
  }

  async version(): Promise<string> {
    const v = await this.call("version", () => this.docker.version());
    return `docker://${v.Version}`;
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (e) {
      if ((e as DockerError).statusCode === 404) return false;
      throw translateError(e, `image inspect ${image}`);
    }
  }

  async inspectImage(image: string): Promise<ImageInfo | undefined> {
    try {
      const i = await this.docker.getImage(image).inspect();
      return { id: i.Id, repoDigests: i.RepoDigests ?? [], size: i.Size, user: i.Config?.User ?? "" };
    } catch (e) {
      if ((e as DockerError).statusCode === 404) return undefined;
      throw translateError(e, `image inspect ${image}`);
    }
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    const ref = withDefaultTag(image);
    const failed = (e: unknown): Error => {
      const d = (e ?? {}) as DockerError;
      const msg = d.json?.message ?? d.message ?? String(e);
      if ((d.code && CONNECTION_CODES.has(d.code)) || /socket hang up|connect E/.test(msg)) return translateError(e, `pull ${ref}`);
      // dockerode prefixes "(HTTP code 404) unexpected - "; the daemon's own words are what users know.
      const daemon = `Error response from daemon: ${String(msg).replace(/^\(HTTP code \d+\) [^-]*- /, "").trim()}`;
      return new ImagePullError(image, daemon, pullFailureKind(daemon), { cause: e });
    };
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.docker.pull(ref, auth ? { authconfig: auth } : {});
    } catch (e) {
      throw failed(e);
    }
    // The engine answers 200 and reports a failure inside the progress stream.
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: unknown, output: { error?: string; errorDetail?: { message?: string } }[]) => {
        if (err) return reject(failed(err));
        const bad = output?.find((o) => o.error || o.errorDetail);
        if (bad) return reject(failed({ message: bad.errorDetail?.message ?? bad.error }));
        resolve();
      });
    });
  }

  /** Creates the bridge network when absent (idempotent, safe against concurrent agents). */
  ensureNetwork(): Promise<void> {
    this.networkReady ??= this.createNetworkIfAbsent().catch((e) => {
      this.networkReady = undefined;
      throw e;
    });
    return this.networkReady;
  }

  private async createNetworkIfAbsent(): Promise<void> {
    const net = this.network;
    const exists = async () => {
      const nets = await this.docker.listNetworks({ filters: { name: [net.name] } });
      return nets.some((n) => n.Name === net.name);
    };
    const found = await this.call("network list", async () => (await this.docker.listNetworks({ filters: { name: [net.name] } })).find((n) => n.Name === net.name));
    if (found) {
      // The same name with another subnet (left by an older Berth, or made by hand): replace it
      // when nothing uses it; otherwise say so rather than hand pods addresses nobody expects.
      const subnets = (found.IPAM?.Config ?? []).map((c) => c.Subnet);
      if (subnets.includes(net.subnet)) return;
      const info = await this.call(`network inspect ${net.name}`, () => this.docker.getNetwork(found.Id).inspect());
      if (Object.keys(info.Containers ?? {}).length > 0) {
        throw new RuntimeError(`Docker network ${net.name} exists with subnet ${subnets.join(",") || "(none)"}, not ${net.subnet}, and containers use it; remove them and the network (docker network rm ${net.name})`, false);
      }
      await this.call(`network rm ${net.name}`, () => this.docker.getNetwork(found.Id).remove());
    }
    try {
      await this.docker.createNetwork({
        Name: net.name,
        Driver: "bridge",
        CheckDuplicate: true,
        Labels: { [LABELS.network]: "true" },
        IPAM: { Driver: "default", Config: [{ Subnet: net.subnet, Gateway: net.gateway }] },
      });
    } catch (e) {
      // Another agent sharing this engine may have created it between our list and create.
      if ((e as DockerError).statusCode === 409 && (await this.call("network list", exists))) return;
      throw translateError(e, `network create ${net.name}`);
    }
  }

  async createSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    await this.ensureNetwork();
    if (!(await this.hasImage(this.infraImage))) throw new ImageNotPresentError(this.infraImage);
    const hostIP = spec.hostIP ?? "127.0.0.1";
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of spec.ports) {
      const k = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[k] = {};
      bindings[k] = [{ HostIp: p.hostIP ?? hostIP, HostPort: p.hostPort ? String(p.hostPort) : "" }];
    }
    const c = await this.call("sandbox create", () =>
      this.docker.createContainer({
        name: containerName(spec, "POD"),
        Image: this.infraImage,
        Cmd: INFRA_COMMAND,
        // At most 63 (a pod's name, cut by podHostnameAndDomain) or 64 (its FQDN, setHostnameAsFQDN).
        Hostname: spec.hostname?.slice(0, 64),
        // Docker writes `<ip> <hostname>.<domainname> <hostname>` into /etc/hosts, which app
        // containers joined to this one share (as the kubelet's managed hosts file). It also sets
        // the UTS NIS domain name, which Kubernetes leaves "(none)"; nothing in DNS reads that.
        Domainname: spec.domainname,
        Labels: { ...podLabels(spec.pod), [LABELS.role]: "infra", [LABELS.container]: "POD" },
        ExposedPorts: exposed,
        HostConfig: {
          NetworkMode: this.network.name,
          PortBindings: bindings,
          ...engineDns(spec.dns),
          // Appended to the /etc/hosts the pod's containers share, as the kubelet's "Entries added by HostAliases".
          ExtraHosts: spec.extraHosts?.map((h) => `${h.hostname}:${h.ip}`),
          ...CONTAINER_HARDENING,
        },
      })
    );
    try {
      await this.call("sandbox start", () => c.start());
    } catch (e) {
      await this.removeContainer(c.id).catch(() => {});
      throw e;
    }
    return this.inspectSandbox(c.id);
  }

  async inspectSandbox(id: string): Promise<SandboxInfo> {
    const info = await this.call(`inspect ${id}`, () => this.docker.getContainer(id).inspect());
    const hostPorts: Record<string, number> = {};
    for (const [k, v] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
      const hp = v?.[0]?.HostPort;
      const [port, proto] = k.split("/");
      if (hp) hostPorts[portKey(Number(port), proto)] = Number(hp);
    }
    const ip = info.NetworkSettings?.Networks?.[this.network.name]?.IPAddress ?? "";
    return { id: info.Id, running: info.State.Running, ip, hostPorts, labels: info.Config.Labels ?? {} };
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    if (!(await this.hasImage(spec.image))) throw new ImageNotPresentError(spec.image);
    const binds: string[] = [];
    const mounts: Docker.MountSettings[] = [];
    const subPaths: { volume: string; subPath: string; target: string; readOnly: boolean }[] = [];
    for (const m of spec.mounts ?? []) {
      // Binds (not Mounts) for host paths: Docker then creates a missing directory, like
      // Kubernetes' DirectoryOrCreate, instead of failing the container.
      if (m.type === "bind") binds.push(`${m.source}:${m.target}${bindOptions(m.readOnly, m.propagation)}`);
      else if (m.subPath) subPaths.push({ volume: m.source, subPath: m.subPath, target: m.target, readOnly: !!m.readOnly });
      // No copy of the image's files (and its directory's owner and mode) into an empty volume at
      // its first mount, which the engine does by default: a Kubernetes emptyDir starts empty,
      // and a copied mode would undo createVolume's (and fsGroup's, below).
      else mounts.push({ Type: "volume", Source: m.source, Target: m.target, ReadOnly: !!m.readOnly, VolumeOptions: NO_COPY });
    }
    // Read and written by the container whatever its user (the file is 0666) and its root filesystem.
    if (spec.terminationMessage) binds.push(`${spec.terminationMessage.hostPath}:${spec.terminationMessage.path}`);
    // fsGroup first: a failure leaves no created container behind to be made again on every retry.
    const group = spec.security?.volumeGroup;
    if (group !== undefined) {
      const writable = new Set([...mounts.filter((m) => !m.ReadOnly && m.Source).map((m) => m.Source!), ...subPaths.filter((m) => !m.readOnly).map((m) => m.volume)]);
      for (const v of writable) await this.setVolumeGroup(v, group, podLabels(spec.pod));
    }
    // A subPath of a volume is a bind of that directory of it (made after fsGroup, so it takes the group).
    for (const m of subPaths) binds.push(`${await this.volumeSubPath(m.volume, m.subPath)}:${m.target}${bindOptions(m.readOnly)}`);
    const c = await this.call("container create", () =>
      this.docker.createContainer({
        name: containerName(spec, spec.name),
        Image: spec.image,
        Entrypoint: spec.command,
        Cmd: spec.args ?? (spec.command ? [] : undefined),
        Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
        WorkingDir: spec.workingDir,
        // stdin/tty as the kubelet asks of its runtime: stdin kept open for `kubectl attach`
        // (and closed after the first client with stdinOnce), a terminal for `-t`.
        OpenStdin: !!spec.stdin,
        StdinOnce: !!spec.stdin && !!spec.stdinOnce,
        AttachStdin: !!spec.stdin,
        Tty: !!spec.tty,
        ...(spec.security?.user !== undefined ? { User: spec.security.user } : {}),
        Labels: {
          ...podLabels(spec.pod),
          [LABELS.role]: "app",
          [LABELS.container]: spec.name,
          [LABELS.restartCount]: String(spec.restartCount),
          ...(spec.terminationMessage ? {
            [LABELS.terminationMessage]: spec.terminationMessage.hostPath,
            [LABELS.terminationMessagePolicy]: spec.terminationMessage.policy,
          } : {}),
        },
        HostConfig: {
          NetworkMode: `container:${spec.sandboxId}`,
          ...(spec.shareProcessNamespace ? { PidMode: `container:${spec.sandboxId}` } : {}),
          Binds: binds.length ? binds : undefined,
          Mounts: mounts.length ? mounts : undefined,
          ...resourceConfig(spec),
          ...CONTAINER_HARDENING,
          ...securityConfig(spec.security),
        },
      })
    );
    return c.id;
  }

  /**
   * The node directory of `subPath` in volume `name`, as the kubelet prepares a subPath: each
   * missing component is made with the volume's own mode (so an emptyDir's stays writable by
   * any user, and a setgid fsGroup volume's group carries over), and the path, resolved, must stay
   * inside the volume — a container can plant a symlink in its volume, and following it out would
   * mount the node's files into the next container. Needs the node to share the engine's
   * filesystem (as projected volumes do).
   */
  private async volumeSubPath(name: string, subPath: string): Promise<string> {
    const v = await this.call(`volume inspect ${name}`, () => this.docker.getVolume(name).inspect()) as { Mountpoint?: string };
    let root: string;
    try {
      root = await realpath(v.Mountpoint ?? "");
    } catch (e) {
      throw new ContainerConfigError(`failed to prepare subPath "${subPath}" of volume ${name}: the node cannot reach the engine's volume directory ${v.Mountpoint ?? "(none)"}`, { cause: e });
    }
    const mode = (await stat(root)).mode & 0o7777;
    let dir = root;
    for (const part of subPath.split("/").filter((p) => p !== "" && p !== ".")) {
      const next = join(dir, part);
      try {
        await mkdir(next);
        await chmod(next, mode);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new ContainerConfigError(`failed to prepare subPath "${subPath}" of volume ${name}: ${(e as Error).message}`, { cause: e });
      }
      const real = await realpath(next);
      if (real !== root && !real.startsWith(root + "/")) throw new ContainerConfigError(`failed to prepare subPath "${subPath}" of volume ${name}: it leads out of the volume`);
      dir = real;
    }
    return dir;
  }

  /** Volumes whose top directory this runtime gave a group (fsGroup), and which. */
  private readonly volumeGroups = new Map<string, number>();

  /**
   * fsGroup: volume `name`'s top directory given group `gid`, group read-write-search and setgid
   * (its other mode bits kept), the first time a container of this runtime mounts it with that
   * group, as the kubelet's SetVolumeOwnership does when it sets a volume up: a pod's later
   * containers find it as its earlier ones (an init container's chmod) left it. Done through a
   * helper container of the infra image, never started, that mounts the volume at `/v`: the
   * engine's archive API applies a directory entry's owner and mode to a directory already there
   * (not to the destination itself, and not on a read-only root filesystem, so not through the
   * app container); the engine's stat gives the mode, not the owner, so the owner becomes root.
   */
  private async setVolumeGroup(name: string, gid: number, labels: Record<string, string>): Promise<void> {
    if (this.volumeGroups.get(name) === gid) return;
    await this.withVolumeHelper(name, labels, async (helper) => {
      const stat = await this.call("volume stat", () => helper.infoArchive({ path: "/v" })) as { headers?: Record<string, string> };
      const archive = await volumeOwnershipTar(gid, volumeModeWithGroup(stat.headers?.["x-docker-container-path-stat"]));
      await this.call("volume ownership", () => helper.putArchive(archive, { path: "/" }));
    });
    this.volumeGroups.set(name, gid);
  }

  /**
   * Runs `fn` with a helper container of the infra image, never started, that mounts volume
   * `name` at `/v` (see setVolumeGroup for why), and removes it. It carries `labels` (the pod's,
   * or the volume's): one left behind by a crash is collected as the pod's garbage, or as an
   * orphan.
   */
  private async withVolumeHelper(name: string, labels: Record<string, string>, fn: (helper: Docker.Container) => Promise<void>): Promise<void> {
    const helper = await this.call("volume ownership helper create", () =>
      this.docker.createContainer({
        Image: this.infraImage,
        Cmd: ["true"],
        Labels: { ...labels, [LABELS.role]: "volume-ownership" },
        HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: name, Target: "/v", VolumeOptions: NO_COPY }], ...CONTAINER_HARDENING },
      })
    );
    try {
      await fn(helper);
    } finally {
      await helper.remove({ force: true }).catch(() => {});
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (e) {
      const d = e as DockerError;
      // 304: already started.
      if (d.statusCode === 304) return;
      const err = translateError(e, `start ${id}`);
      if (err instanceof RuntimeUnavailableError || err instanceof ContainerNotFoundError) throw err;
      const info = await this.inspectContainer(id).catch(() => undefined);
      throw new ContainerStartError(d.json?.message ?? err.message, info?.exitCode || 128, { cause: e });
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.round(graceSeconds)) });
    } catch (e) {
      const d = e as DockerError;
      if (d.statusCode === 304 || d.statusCode === 404) return; // already stopped / gone
      throw translateError(e, `stop ${id}`);
    }
  }

  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal });
    } catch (e) {
      const d = e as DockerError;
      if (d.statusCode === 409 || d.statusCode === 404) return; // not running / gone
      throw translateError(e, `kill ${id}`);
    }
  }

  /** Ended containers' termination messages, read once (by id; forgotten when the container goes). */
  private readonly terminationMessages = new Map<string, string>();

  /**
   * An ended container's termination message, as the kubelet reads it: the last 4 KiB of the
   * node file bind-mounted at its terminationMessagePath; with FallbackToLogsOnError, when that is
   * empty and the container failed, the last 2 KiB of its log's last 80 lines.
   */
  private async terminationMessage(id: string, labels: Record<string, string>, exitCode: number): Promise<string | undefined> {
    const file = labels[LABELS.terminationMessage];
    if (!file) return undefined;
    let message = this.terminationMessages.get(id);
    if (message === undefined) {
      message = await readTail(file, 4096);
      if (message === "" && exitCode !== 0 && labels[LABELS.terminationMessagePolicy] === "FallbackToLogsOnError") {
        const chunks: Uint8Array[] = [];
        try {
          for await (const c of await this.logs(id, { tail: 80 })) chunks.push(c.data);
        } catch {
          // No log (the engine lost it): no message.
        }
        const log = Buffer.concat(chunks);
        message = log.subarray(Math.max(0, log.length - 2048)).toString("utf8");
      }
      this.terminationMessages.set(id, message);
    }
    return message || undefined;
  }

  async removeContainer(id: string): Promise<void> {
    this.terminationMessages.delete(id);
    try {
      await this.docker.getContainer(id).remove({ force: true, v: false });
      // Again: an inspect under way when the removal began may have read it once more.
      this.terminationMessages.delete(id);
    } catch (e) {
      const d = e as DockerError;
      if (d.statusCode === 404) return;
      // 409 "removal already in progress" is fine too.
      if (d.statusCode === 409 && /already in progress/.test(d.json?.message ?? "")) return;
      throw translateError(e, `remove ${id}`);
    }
  }

  async inspectContainer(id: string): Promise<ContainerInfo> {
    const i = await this.call(`inspect ${id}`, () => this.docker.getContainer(id).inspect());
    const zero = (t?: string) => (!t || t.startsWith("0001-") ? undefined : t);
    const ended = !i.State.Running && (i.State.Status === "exited" || i.State.Status === "dead");
    const message = ended ? await this.terminationMessage(i.Id, i.Config.Labels ?? {}, i.State.ExitCode) : undefined;
    return {
      id: i.Id,
      labels: i.Config.Labels ?? {},
      image: i.Config.Image,
      imageId: i.Image,
      state: i.State.Status as ContainerStateName,
      running: i.State.Running,
      exitCode: i.State.ExitCode,
      error: i.State.Error || undefined,
      ...(message ? { terminationMessage: message } : {}),
      oomKilled: i.State.OOMKilled,
      sandboxId: i.HostConfig?.NetworkMode?.startsWith("container:") ? i.HostConfig.NetworkMode.slice(10) : undefined,
      startedAt: zero(i.State.StartedAt),
      finishedAt: zero(i.State.FinishedAt),
    };
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const rows = await this.call("list", () =>
      this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) } })
    );
    return rows.map((r) => ({ id: r.Id, labels: r.Labels ?? {}, state: r.State as ContainerStateName }));
  }

  async exec(id: string, cmd: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const ex = await this.call("exec create", () =>
      this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true })
    );
    const stream = await this.call("exec start", () => ex.start({ hijack: true, stdin: false }));
    const dec = new FrameDecoder();
    const out: Uint8Array[] = [];
    const err: Uint8Array[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = opts.timeoutMs
        ? setTimeout(() => {
          stream.destroy();
          reject(new RuntimeError(`exec timed out after ${opts.timeoutMs} ms`, true));
        }, opts.timeoutMs)
        : undefined;
      stream.on("data", (chunk: Buffer) => {
        for (const f of dec.push(chunk)) (f.stream === "stderr" ? err : out).push(f.data);
      });
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      stream.on("end", done);
      stream.on("close", done);
      stream.on("error", (e: unknown) => {
        clearTimeout(timer);
        reject(translateError(e, "exec stream"));
      });
    });
    const td = new TextDecoder();
    const info = await this.call("exec inspect", () => ex.inspect());
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: out.map((b) => td.decode(b)).join(""),
      stderr: err.map((b) => td.decode(b)).join(""),
    };
  }

  execStream(id: string, cmd: string[], opts: ExecStreamOptions): Promise<ExecStream> {
    return this.call("exec", () => dockerExecStream(this.docker, id, cmd, opts));
  }

  reapStreamExecs(containerIds: string[]): Promise<number> {
    return this.call("reap stream execs", () => reapStreamExecs(this.docker, containerIds));
  }

  attach(id: string, opts: ExecStreamOptions): Promise<ExecStream> {
    return this.call("attach", () => dockerAttach(this.docker, id, opts));
  }

  async logs(id: string, opts: { follow?: boolean; tail?: number } = {}): Promise<Closeable<LogChunk>> {
    const c = this.docker.getContainer(id);
    // dockerode's types want a number; the engine also accepts "all".
    const base = { stdout: true, stderr: true, tail: (opts.tail ?? "all") as number };
    if (!opts.follow) {
      const buf = (await this.call("logs", () => c.logs({ ...base, follow: false }))) as unknown as Uint8Array;
      const q = new AsyncQueue<LogChunk>();
      for (const f of new FrameDecoder().push(buf)) q.push(f);
      q.end();
      return q;
    }
    const stream = (await this.call("logs", () => c.logs({ ...base, follow: true }))) as unknown as NodeJS.ReadableStream &
      { destroy(): void };
    const dec = new FrameDecoder();
    const q = new AsyncQueue<LogChunk>(() => stream.destroy());
    stream.on("data", (chunk: Buffer) => {
      for (const f of dec.push(chunk)) q.push(f);
    });
    stream.on("end", () => q.end());
    stream.on("close", () => q.end());
    stream.on("error", (e: unknown) => q.end(translateError(e, "logs stream")));
    return q;
  }

  async events(labels: Record<string, string>): Promise<Closeable<RuntimeEvent>> {
    const stream = (await this.call("events", () =>
      this.docker.getEvents({
        filters: { type: ["container"], event: ["start", "die", "destroy", "oom"], label: labelFilter(labels) },
      })
    )) as NodeJS.ReadableStream & { destroy(): void };
    const dec = new NdjsonDecoder();
    const q = new AsyncQueue<RuntimeEvent>(() => stream.destroy());
    stream.on("data", (chunk: Buffer) => {
      for (const raw of dec.push(chunk)) {
        const ev = raw as { Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
        const action = (ev.Action ?? ev.status ?? "") as RuntimeEvent["type"];
        const id = ev.Actor?.ID ?? ev.id;
        if (!id || !["start", "die", "destroy", "oom"].includes(action)) continue;
        q.push({ type: action, id, labels: ev.Actor?.Attributes ?? {} });
      }
    });
    const ended = () => q.end(new RuntimeUnavailableError("docker events stream ended"));
    stream.on("end", ended);
    stream.on("close", ended);
    stream.on("error", (e: unknown) => q.end(translateError(e, "events stream")));
    return q;
  }

  /** Volumes this runtime made whose mode is not set yet (an earlier try failed): set on the next call. */
  private readonly volumesWithoutMode = new Set<string>();

  /**
   * Makes volume `name` unless it exists. A new volume's top directory is made world-writable
   * (0777, root's), as the kubelet makes an emptyDir and local provisioners a volume, so that a
   * container running as any user can write it; the engine's own default is 0755, which only
   * root can write. A volume that exists is left as it is (a pod's later containers find it as
   * its earlier ones left it), unless this runtime made it and could not set its mode: that is
   * tried again. A helper container made on the way carries `owner`'s labels (the pod's), so a
   * crash leaves it as that pod's garbage, never an orphan removed under a live operation.
   */
  async createVolume(name: string, labels: Record<string, string>, owner?: PodRef): Promise<void> {
    const found = await this.docker.getVolume(name).inspect().then((v: { Mountpoint?: string }) => v, (e: DockerError) => {
      if (e.statusCode === 404) return undefined;
      throw translateError(e, `volume inspect ${name}`);
    });
    if (found && !this.volumesWithoutMode.has(name)) return;
    let mountpoint = found?.Mountpoint;
    if (!found) {
      this.volumesWithoutMode.add(name);
      const made = await this.call(`volume create ${name}`, () => this.docker.createVolume({ Name: name, Labels: labels })) as unknown as { Mountpoint?: string };
      mountpoint = made?.Mountpoint ?? (await this.docker.getVolume(name).inspect().catch(() => undefined))?.Mountpoint;
    }
    // Where the node shares the engine's filesystem (a root agent beside its dockerd), the
    // volume's directory is changed in place; else (a remote or rootless engine) through a helper
    // container, ~50 ms more per volume.
    if (!this.volumeModeInPlace || !mountpoint || !(await chmod(mountpoint, 0o777).then(() => true, () => false))) {
      const archive = await volumeOwnershipTar(0, 0o777);
      await this.withVolumeHelper(name, volumeHelperLabels(labels, owner), (helper) => this.call("volume mode", () => helper.putArchive(archive, { path: "/" })).then(() => {}));
    }
    this.volumesWithoutMode.delete(name);
  }

  async removeVolume(name: string): Promise<void> {
    this.volumeGroups.delete(name);
    this.volumesWithoutMode.delete(name);
    try {
      await this.docker.getVolume(name).remove();
    } catch (e) {
      if ((e as DockerError).statusCode === 404) return;
      throw translateError(e, `volume remove ${name}`);
    }
  }

  async listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]> {
    const r = await this.call("volume list", () => this.docker.listVolumes({ filters: { label: labelFilter(labels) } }));
    return (r.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }
}
