/**
 * The container runtime contract: what a node agent needs from an engine, and nothing more.
 *
 * Modelled on Nomad's driver contract and the Kubernetes CRI: a pod is a *sandbox* (an infra
 * container owning the network namespace and the published ports) plus *app containers* joined
 * to it. Two implementations exist behind this one interface:
 *
 *   - `DockerRuntime` (docker.ts) — dockerode against a real engine, the default everywhere;
 *   - `HollowRuntime` (hollow.ts) — in memory, scripted by pod annotations, for scale tests
 *     (kubemark's idea: only the runtime is faked, the node and pod actors are the real ones).
 *
 * Everything a runtime creates carries the `berth.*` labels in `LABELS`; a node lists, adopts and
 * removes only objects labelled with its own name and never touches anything else.
 *
 * Errors say whether they are recoverable: `RuntimeUnavailableError` (the engine does not answer;
 * retry later) versus terminal ones such as `ImageNotPresentError` (retrying changes nothing until
 * someone imports the image).
 */

/** Label keys stamped on every container and volume Berth creates. */
export const LABELS = {
  node: "berth.node",
  podUid: "berth.pod.uid",
  podName: "berth.pod.name",
  podNamespace: "berth.pod.namespace",
  container: "berth.container",
  /** `infra` for the sandbox container, `app` for the pod's containers. */
  role: "berth.role",
  /** The restart count of the pod container this Docker container is an attempt of. */
  restartCount: "berth.restart-count",
  /** On volumes: `emptyDir` (dies with the pod) or `persistent` (outlives it). */
  volumeKind: "berth.volume.kind",
  /** On a persistent volume: the name of the PersistentVolumeClaim it backs (with `podNamespace` for its namespace). */
  claim: "berth.claim",
  /** On a persistent volume: the uid of the PersistentVolumeClaim it backs. */
  claimUid: "berth.claim.uid",
  /** On the shared bridge network. */
  network: "berth.network",
  /** On a container: the node file bind-mounted at its terminationMessagePath, read when it ends. */
  terminationMessage: "berth.termination-message",
  /** On a container: `FallbackToLogsOnError` when the log's tail stands in for an empty message. */
  terminationMessagePolicy: "berth.termination-message-policy",
  /**
   * The cluster an object belongs to (absent on objects of agents started without a cluster
   * id). Two clusters on one engine may use the same node names; this keeps them apart.
   */
  cluster: "berth.cluster",
} as const;

/** Which pod an object belongs to. */
export interface PodRef {
  node: string;
  uid: string;
  name: string;
  namespace: string;
  /** The pod's annotations; the hollow runtime reads its script from them, Docker ignores them. */
  annotations?: Record<string, string>;
  /** The cluster id stamped as `berth.cluster` (set by the cluster-scoped runtime view). */
  cluster?: string;
}

export interface PortSpec {
  containerPort: number;
  protocol: "TCP" | "UDP";
  /** Publish on this host port (Kubernetes `hostPort`); absent: an ephemeral one. */
  hostPort?: number;
  /** Publish on this host address instead of the sandbox's `hostIP` (Kubernetes `hostIP`). */
  hostIP?: string;
}

export interface DnsConfig {
  servers: string[];
  search: string[];
  options: string[];
}

/** What the sandbox (infra container) needs: the pod's ports are published on it. */
export interface SandboxSpec {
  pod: PodRef;
  /** The pod's hostname (at most 63 characters), shared by its containers. */
  hostname?: string;
  /**
   * The pod's DNS domain (`<subdomain>.<ns>.svc.<clusterDomain>`, from `spec.subdomain`): the pod
   * resolves its FQDN `<hostname>.<domainname>` to its own IP without the cluster DNS, as the
   * kubelet's /etc/hosts gives it (`hostname -f`).
   */
  domainname?: string;
  ports: PortSpec[];
  /** Address the ports are published on (the node's advertise address). Default 127.0.0.1. */
  hostIP?: string;
  dns?: DnsConfig;
  /** `spec.hostAliases`: lines added to the pod's /etc/hosts. */
  extraHosts?: { hostname: string; ip: string }[];
}

/** A sandbox as observed. `hostPorts` maps `"<containerPort>/<PROTO>"` to the host port. */
export interface SandboxInfo {
  id: string;
  running: boolean;
  ip: string;
  hostPorts: Record<string, number>;
  labels: Record<string, string>;
}

export type MountSpec =
  /**
   * A named volume (emptyDir or persistent). It must exist: create it with `createVolume`.
   * `subPath`: only that directory of it (made when missing, with the volume's mode).
   */
  | { type: "volume"; source: string; target: string; readOnly?: boolean; subPath?: string }
  /** A host directory; `propagation: "rslave"` for mountPropagation HostToContainer. */
  | { type: "bind"; source: string; target: string; readOnly?: boolean; propagation?: "rslave" };

export interface ContainerSpec {
  pod: PodRef;
  /** The container's name inside the pod. */
  name: string;
  sandboxId: string;
  image: string;
  /** Kubernetes `command` (replaces the image entrypoint). */
  command?: string[];
  /** Kubernetes `args` (replaces the image cmd). */
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  /** Kubernetes `stdin`, `stdinOnce` and `tty`: an attachable stdin and a terminal. */
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  mounts?: MountSpec[];
  /** Join the sandbox's process namespace (`spec.shareProcessNamespace`). */
  shareProcessNamespace?: boolean;
  /**
   * A node file (`hostPath`) bind-mounted at the container's terminationMessagePath (`path`); what
   * the container writes there becomes its terminated state's message.
   */
  terminationMessage?: { hostPath: string; path: string; policy: "File" | "FallbackToLogsOnError" };
  /** CPU limit in cores (0.5 = half a core): a CFS quota per 100 ms period, as the kubelet sets. */
  cpus?: number;
  /** Relative CPU weight (the kubelet's shares from `requests.cpu`: milli-CPU × 1024 / 1000, at least 2). */
  cpuShares?: number;
  /** Memory limit in bytes. */
  memoryBytes?: number;
  restartCount: number;
  /** Who the container runs as and what it may do (runtime/kubelet/security_context.ts). */
  security?: ContainerSecurity;
}

/** A container's securityContext as the engine applies it. */
export interface ContainerSecurity {
  /** `uid`, `uid:gid` or `user:gid` (the image's user with another group); absent: the image's. */
  user?: string;
  /** Supplementary groups of the container's first process. */
  groups?: number[];
  readOnlyRootFilesystem?: boolean;
  /** Capabilities taken away (`ALL`, `NET_RAW`, ...). */
  dropCapabilities?: string[];
  /** Run without the engine's default seccomp profile. */
  seccompUnconfined?: boolean;
  /**
   * Kubernetes' fsGroup: the top directory of each writable named volume (emptyDir, claim) is
   * given this group, group-writable and setgid before the container starts, so what the
   * container writes there is the group's.
   */
  volumeGroup?: number;
}

export type ContainerStateName = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

/** A container as observed. Times are ISO strings; absent when the engine has none. */
export interface ContainerInfo {
  id: string;
  labels: Record<string, string>;
  image: string;
  imageId?: string;
  state: ContainerStateName;
  running: boolean;
  exitCode: number;
  /** The engine's error for a container that could not start (e.g. executable not found). */
  error?: string;
  /** An ended container's termination message (its message file, or with FallbackToLogsOnError its log's tail). */
  terminationMessage?: string;
  oomKilled: boolean;
  /** The infra container whose network namespace this container joined, if any. */
  sandboxId?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** Summary row of a list call. */
export interface ContainerSummary {
  id: string;
  labels: Record<string, string>;
  state: ContainerStateName;
}

/** Credentials for one pull, as Docker's `X-Registry-Auth` takes them. */
export interface RegistryAuth {
  username: string;
  password: string;
  /** The registry host (with port), e.g. `127.0.0.1:5000`. */
  serveraddress: string;
}

/** A local image as the engine knows it. */
export interface ImageInfo {
  /** The engine's image ID (`sha256:...`). */
  id: string;
  /** `repo@sha256:...` digests the image was pulled by (empty for an image only built or imported). */
  repoDigests: string[];
  /** Size in bytes. */
  size: number;
  /** The user the image runs as (its `USER`: a name or uid, optionally `:group`); "" for root. */
  user?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface LogChunk {
  stream: "stdout" | "stderr";
  data: Uint8Array;
}

/**
 * A process attached to a container's stdio: `exec` of a new process, or `attach` to the main
 * one (kubectl exec / attach). Output arrives through `onOutput` (with a TTY, all of it as
 * stdout); `pause`/`resume` hold it back while the reader is slow.
 */
export interface ExecStream {
  onOutput(fn: (c: LogChunk) => void): void;
  pause(): void;
  resume(): void;
  /** Writes to stdin; resolves once the engine took the bytes. */
  write(data: Uint8Array): Promise<void>;
  /** Ends stdin (the process reads EOF). */
  closeStdin(): void;
  resize(width: number, height: number): Promise<void>;
  /** Resolves with the exit code once the process ended and all its output was delivered. */
  readonly exited: Promise<number>;
  /** Stops it: an exec'd process is killed, an attach is detached. Idempotent. */
  kill(): Promise<void>;
}

export interface ExecStreamOptions {
  stdin: boolean;
  tty: boolean;
}

/** A stream of chunks that can be closed early. */
export interface Closeable<T> extends AsyncIterable<T> {
  close(): void;
}

/** A container lifecycle change seen by the engine. */
export interface RuntimeEvent {
  type: "start" | "die" | "destroy" | "oom";
  id: string;
  labels: Record<string, string>;
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

/** A network-probe request, for runtimes that answer probes themselves (hollow). */
export interface NetworkProbe {
  kind: "httpGet" | "tcpSocket" | "grpc";
  pod: PodRef;
  container: string;
  port: number;
  /** httpGet only. */
  path?: string;
  /** grpc only: the service named in the health check ("" for the whole server). */
  service?: string;
}

export interface ContainerRuntime {
  /** "docker" or "hollow". */
  readonly kind: string;
  /** Resolves when the engine answers; throws `RuntimeUnavailableError` otherwise. */
  ping(): Promise<void>;
  /** The engine version, e.g. `docker://20.10.24`. */
  version(): Promise<string>;
  hasImage(image: string): Promise<boolean>;
  /** The local image, or undefined when absent. */
  inspectImage(image: string): Promise<ImageInfo | undefined>;
  /**
   * Pulls the image from its registry (a reference without tag or digest means `:latest`).
   * Throws `ImagePullError` when the registry refuses (unknown image, bad credentials) or cannot
   * be reached; `RuntimeUnavailableError` when the engine itself does not answer.
   */
  pullImage(image: string, auth?: RegistryAuth): Promise<void>;

  /** Creates and starts the infra container. Throws `ImageNotPresentError` if the base image is absent. */
  createSandbox(spec: SandboxSpec): Promise<SandboxInfo>;
  inspectSandbox(id: string): Promise<SandboxInfo>;

  /** Creates (does not start) an app container joined to the sandbox. */
  createContainer(spec: ContainerSpec): Promise<string>;
  /** Throws `ContainerStartError` when the engine refuses (e.g. the command does not exist). */
  startContainer(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceSeconds`. A container already stopped is fine. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  /** Removes the container (forcefully). A container already gone is fine. */
  removeContainer(id: string): Promise<void>;
  /** Throws `ContainerNotFoundError` when absent. */
  inspectContainer(id: string): Promise<ContainerInfo>;
  /** Every container (running or not) carrying all the given labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;

  exec(id: string, cmd: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Optional: an interactive exec (kubectl exec); runtimes without it refuse streaming exec. */
  execStream?(id: string, cmd: string[], opts: ExecStreamOptions): Promise<ExecStream>;
  /** Optional: attaches to the container's main process (kubectl attach). */
  attach?(id: string, opts: ExecStreamOptions): Promise<ExecStream>;
  /**
   * Optional: kills the processes `execStream` started in these containers that still run. A node
   * agent calls it as it starts: the sessions of an agent that died went with it, and nothing
   * else would stop a `kubectl exec ... -- sleep 1000` it left behind. Returns how many.
   */
  reapStreamExecs?(containerIds: string[]): Promise<number>;
  logs(id: string, opts?: { follow?: boolean; tail?: number }): Promise<Closeable<LogChunk>>;
  /** Container events for everything carrying the given labels, until closed or the engine goes away. */
  events(labels: Record<string, string>): Promise<Closeable<RuntimeEvent>>;

  /**
   * Makes volume `name` with `labels` unless it exists. `owner`: the labels of the pod it is made
   * for, given to anything the runtime makes on the way (so it is that pod's garbage if left).
   */
  createVolume(name: string, labels: Record<string, string>, owner?: PodRef): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]>;

  /** Optional: answer network probes without touching the network (the hollow runtime). */
  probe?(req: NetworkProbe): Promise<{ ok: boolean; message?: string }>;
}

/** Base class: every runtime failure says whether retrying can help. */
export class RuntimeError extends Error {
  readonly recoverable: boolean;
  constructor(message: string, recoverable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuntimeError";
    this.recoverable = recoverable;
  }
}

/**
 * What the pod asks of a container cannot be prepared (a subPath that leads out of its volume):
 * the kubelet's CreateContainerConfigError, retried as the pod is synced.
 */
export class ContainerConfigError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
    this.name = "ContainerConfigError";
  }
}

/** The engine does not answer (socket absent, daemon restarting). Recoverable. */
export class RuntimeUnavailableError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = "RuntimeUnavailableError";
  }
}

/** The image is not present locally and the pull policy is `Never`. Terminal until the image is imported. */
export class ImageNotPresentError extends RuntimeError {
  readonly image: string;
  constructor(image: string, options?: { cause?: unknown }) {
    super(`Container image "${image}" is not present with pull policy of Never`, false, options);
    this.name = "ImageNotPresentError";
    this.image = image;
  }
}

/** Why a pull failed, as far as the registry's answer tells. */
export type PullFailure = "notFound" | "unauthorized" | "unreachable" | "other";

/** The registry would not give the image. Recoverable: the kubelet retries with back-off. */
export class ImagePullError extends RuntimeError {
  readonly image: string;
  readonly kind: PullFailure;
  constructor(image: string, message: string, kind: PullFailure, options?: { cause?: unknown }) {
    super(message, true, options);
    this.name = "ImagePullError";
    this.image = image;
    this.kind = kind;
  }
}

/** How a registry's error message reads: unknown image, refused credentials, or unreachable. */
export function pullFailureKind(message: string): PullFailure {
  if (/unauthorized|authentication required|no basic auth credentials|denied|401/i.test(message)) return "unauthorized";
  if (/manifest unknown|not found|does not exist|name unknown|404/i.test(message)) return "notFound";
  if (/connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|EOF/i.test(message)) return "unreachable";
  return "other";
}

/** The engine refused to start the container (e.g. its command does not exist). Terminal for this attempt. */
export class ContainerStartError extends RuntimeError {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, false, options);
    this.name = "ContainerStartError";
    this.exitCode = exitCode;
  }
}

/** The container does not exist (any more). */
export class ContainerNotFoundError extends RuntimeError {
  constructor(id: string, options?: { cause?: unknown }) {
    super(`container ${id} not found`, false, options);
    this.name = "ContainerNotFoundError";
  }
}

/** The labels a pod's objects carry. */
export function podLabels(pod: PodRef): Record<string, string> {
  return {
    [LABELS.node]: pod.node,
    [LABELS.podUid]: pod.uid,
    [LABELS.podName]: pod.name,
    [LABELS.podNamespace]: pod.namespace,
    ...(pod.cluster ? { [LABELS.cluster]: pod.cluster } : {}),
  };
}

/** Key of a published port in `SandboxInfo.hostPorts` and the `berth.dev/host-ports` annotation. */
export function portKey(port: number, protocol: string = "TCP"): string {
  return `${port}/${protocol.toUpperCase()}`;
}

/** Name of the Docker volume backing a pod's `emptyDir` volume: per pod (uid), removed with it. */
export function volumeName(kind: "emptyDir", pod: PodRef, volume: string): string {
  return `berth-ed-${pod.uid.slice(0, 12)}-${volume}`;
}

/**
 * Name of the Docker volume backing a PersistentVolumeClaim: `berth-` and the claim's
 * `spec.volumeName` (`pvc-<uid>`). Named by the claim's uid, not by namespace and name: those
 * joined with `-` are ambiguous (namespace `a`, claim `b-c` against namespace `a-b`, claim `c`),
 * and a claim deleted and made again under its name must never find the old one's data (a
 * volume its node did not remove — the node was away — would otherwise come back to life).
 * Unique across clusters sharing an engine, since uids are.
 */
export function claimVolumeName(claimUid: string): string {
  return `berth-pvc-${claimUid}`;
}
