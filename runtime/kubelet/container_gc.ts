/**
 * Container garbage collection: labelled containers and emptyDir volumes of this node that no
 * pod wants any more — left by a pod deleted while the agent was down, a crash between create
 * and start, or a pod actor that failed. The decision is pure (`findOrphans`); the executor
 * lists, decides and removes. Only objects labelled with this node's name are ever looked at
 * (the runtime given here is already scoped to the node's cluster).
 */
import type { Log } from "../../model/log.ts";
import { type ContainerSummary, type ContainerRuntime, LABELS, RuntimeError, type VolumeInfo } from "../../model/container_runtime.ts";

/** What to remove: containers and volumes whose pod (by uid label) is not wanted. */
export interface Orphans {
  containers: ContainerSummary[];
  volumes: VolumeInfo[];
}

/**
 * The containers and emptyDir volumes no pod wants. `wanted(uid)` answers for a pod uid; an
 * object without a pod-uid label belongs to no pod and is an orphan too.
 */
export function findOrphans(containers: readonly ContainerSummary[], volumes: readonly VolumeInfo[], wanted: (uid: string) => boolean): Orphans {
  const orphan = (labels: Record<string, string>) => {
    const uid = labels[LABELS.podUid];
    return !uid || !wanted(uid);
  };
  return { containers: containers.filter((c) => orphan(c.labels)), volumes: volumes.filter((v) => orphan(v.labels)) };
}

/**
 * The executor: one collection at a time (a call while one runs returns at once). Failures are
 * absorbed: the runtime may be down, and the next period (or its return) collects again.
 * `stop()` ends it: a collection in flight removes nothing more, since what it listed is then
 * judged against an agent that is letting go of its pods (the next agent re-adopts them).
 */
export class ContainerGc {
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly node: string,
    private readonly wanted: (uid: string) => boolean,
    private readonly log: Log,
  ) {}

  collect(): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  /** No collection starts after this; resolves when the one in flight (if any) has ended. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.running ?? Promise.resolve();
  }

  private async pass(): Promise<void> {
    try {
      const containers = await this.runtime.listContainers({ [LABELS.node]: this.node });
      const volumes = await this.runtime.listVolumes({ [LABELS.node]: this.node, [LABELS.volumeKind]: "emptyDir" });
      if (this.stopped) return;
      const orphans = findOrphans(containers, volumes, this.wanted);
      for (const c of orphans.containers) {
        if (this.stopped) return;
        this.log("removing orphaned container", { node: this.node, id: c.id.slice(0, 12), pod: c.labels[LABELS.podName] });
        await this.runtime.removeContainer(c.id);
      }
      // A volume still held by a container being removed goes on the next pass.
      for (const v of orphans.volumes) {
        if (this.stopped) return;
        await this.runtime.removeVolume(v.name).catch(() => {});
      }
    } catch (e) {
      if (!(e instanceof RuntimeError)) this.log("garbage collection failed", { node: this.node, error: String(e) });
    }
  }
}
