/**
 * A cluster's view of a shared container engine. Several clusters may run on one Docker engine
 * with the same node names (`node-1` is `berth up`'s default); a node that owned containers by
 * `berth.node` alone would adopt or garbage-collect another cluster's containers. Through this
 * view a node agent sees and touches only what belongs to its cluster:
 *
 *   - with a cluster id: everything created carries `berth.cluster=<id>`, and lists and event
 *     streams are filtered by it — objects without the label belong to someone else;
 *   - without one (the default, and what existing clusters have): objects carrying any
 *     `berth.cluster` label are left out, so an id-less cluster never touches a labelled one.
 *
 * Calls by container id (inspect, stop, remove, exec, logs) pass through: ids come only from
 * the filtered lists and from creates made through this view.
 */
import {
  type ExecStreamOptions,
  type Closeable,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerSummary,
  type ImageInfo,
  type RegistryAuth,
  LABELS,
  type NetworkProbe,
  type RuntimeEvent,
  type SandboxInfo,
  type PodRef,
  type SandboxSpec,
  type VolumeInfo,
} from "../../model/container_runtime.ts";

/** Whether an object with these labels belongs to `cluster` (undefined: the id-less cluster). */
export function inCluster(labels: Record<string, string>, cluster: string | undefined): boolean {
  return cluster === undefined ? labels[LABELS.cluster] === undefined : labels[LABELS.cluster] === cluster;
}

/** Thrown for a cluster id Docker labels cannot carry safely. */
export class InvalidClusterIdError extends Error {
  constructor(id: string) {
    super(`invalid cluster id ${JSON.stringify(id)}: use 1-63 characters of [A-Za-z0-9._-]`);
    this.name = "InvalidClusterIdError";
  }
}

/** `runtime` as seen by cluster `clusterId` (see the file comment). */
export function clusterScoped(runtime: ContainerRuntime, clusterId: string | undefined): ClusterScopedRuntime {
  if (runtime instanceof ClusterScopedRuntime && runtime.clusterId === clusterId) return runtime;
  return new ClusterScopedRuntime(runtime instanceof ClusterScopedRuntime ? runtime.inner : runtime, clusterId);
}

export class ClusterScopedRuntime implements ContainerRuntime {
  readonly kind: string;
  readonly probe?: (req: NetworkProbe) => Promise<{ ok: boolean; message?: string }>;

  constructor(readonly inner: ContainerRuntime, readonly clusterId: string | undefined) {
    if (clusterId !== undefined && !/^[A-Za-z0-9._-]{1,63}$/.test(clusterId)) throw new InvalidClusterIdError(clusterId);
    this.kind = inner.kind;
    if (inner.probe) this.probe = (req) => inner.probe!({ ...req, pod: { ...req.pod, cluster: clusterId } });
  }

  private scope(labels: Record<string, string>): Record<string, string> {
    return this.clusterId === undefined ? labels : { ...labels, [LABELS.cluster]: this.clusterId };
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
  version(): Promise<string> {
    return this.inner.version();
  }
  hasImage(image: string): Promise<boolean> {
    return this.inner.hasImage(image);
  }
  inspectImage(image: string): Promise<ImageInfo | undefined> {
    return this.inner.inspectImage(image);
  }
  pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    return this.inner.pullImage(image, auth);
  }
  createSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    return this.inner.createSandbox({ ...spec, pod: { ...spec.pod, cluster: this.clusterId } });
  }
  inspectSandbox(id: string): Promise<SandboxInfo> {
    return this.inner.inspectSandbox(id);
  }
  createContainer(spec: ContainerSpec): Promise<string> {
    return this.inner.createContainer({ ...spec, pod: { ...spec.pod, cluster: this.clusterId } });
  }
  startContainer(id: string): Promise<void> {
    return this.inner.startContainer(id);
  }
  stopContainer(id: string, graceSeconds: number): Promise<void> {
    return this.inner.stopContainer(id, graceSeconds);
  }
  killContainer(id: string, signal?: string): Promise<void> {
    return this.inner.killContainer(id, signal);
  }
  removeContainer(id: string): Promise<void> {
    return this.inner.removeContainer(id);
  }
  inspectContainer(id: string) {
    return this.inner.inspectContainer(id);
  }
  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return (await this.inner.listContainers(this.scope(labels))).filter((c) => inCluster(c.labels, this.clusterId));
  }
  exec(id: string, cmd: string[], opts?: { timeoutMs?: number }) {
    return this.inner.exec(id, cmd, opts);
  }
  get execStream() {
    const inner = this.inner;
    return inner.execStream ? (id: string, cmd: string[], opts: ExecStreamOptions) => inner.execStream!(id, cmd, opts) : undefined;
  }
  get reapStreamExecs() {
    const inner = this.inner;
    return inner.reapStreamExecs ? (ids: string[]) => inner.reapStreamExecs!(ids) : undefined;
  }
  get attach() {
    const inner = this.inner;
    return inner.attach ? (id: string, opts: ExecStreamOptions) => inner.attach!(id, opts) : undefined;
  }
  logs(id: string, opts?: { follow?: boolean; tail?: number }) {
    return this.inner.logs(id, opts);
  }
  async events(labels: Record<string, string>): Promise<Closeable<RuntimeEvent>> {
    const src = await this.inner.events(this.scope(labels));
    const cluster = this.clusterId;
    return {
      close: () => src.close(),
      async *[Symbol.asyncIterator]() {
        for await (const ev of src) if (inCluster(ev.labels, cluster)) yield ev;
      },
    };
  }
  createVolume(name: string, labels: Record<string, string>, owner?: PodRef): Promise<void> {
    return this.inner.createVolume(name, this.scope(labels), owner && { ...owner, cluster: this.clusterId });
  }
  removeVolume(name: string): Promise<void> {
    return this.inner.removeVolume(name);
  }
  async listVolumes(labels: Record<string, string>): Promise<VolumeInfo[]> {
    return (await this.inner.listVolumes(this.scope(labels))).filter((v) => inCluster(v.labels, this.clusterId));
  }
}
