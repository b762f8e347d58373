/**
 * Finding a pod's container on this node, and the two things the CLI and the API ask of it:
 * its logs and a command run inside it (`berth logs`, `berth exec`, REST `pods/log`).
 */
import { type Closeable, type ContainerRuntime, type ExecResult, LABELS, type LogChunk } from "../../model/container_runtime.ts";
import type { Pod } from "../../model/types.ts";

/** The runtime container id of a pod's container: the newest attempt, preferring a running one. */
export async function findPodContainer(runtime: ContainerRuntime, pod: Pod, container?: string): Promise<string> {
  const name = container ?? pod.spec.containers[0]?.name;
  if (!name) throw new PodContainerNotFoundError(pod.metadata.name, "<none>");
  const all = await runtime.listContainers({
    [LABELS.podUid]: pod.metadata.uid ?? pod.metadata.name,
    [LABELS.container]: name,
    ...(pod.spec.nodeName ? { [LABELS.node]: pod.spec.nodeName } : {}),
  });
  const rank = (c: { state: string; labels: Record<string, string> }) => (c.state === "running" ? 1e9 : 0) + Number(c.labels[LABELS.restartCount] ?? 0);
  const best = all.sort((a, b) => rank(b) - rank(a))[0];
  if (!best) throw new PodContainerNotFoundError(pod.metadata.name, name);
  return best.id;
}

/** No container of that name exists (yet) for the pod on this runtime. */
export class PodContainerNotFoundError extends Error {
  constructor(pod: string, container: string) {
    super(`container ${container} of pod ${pod} not found on this node`);
    this.name = "PodContainerNotFoundError";
  }
}

/** For `berth logs POD [-c C] [-f]`: the container's stdout/stderr as chunks. */
export async function podLogs(runtime: ContainerRuntime, pod: Pod, container?: string, follow = false, tail?: number): Promise<Closeable<LogChunk>> {
  return runtime.logs(await findPodContainer(runtime, pod, container), { follow, tail });
}

/** For `berth exec POD [-c C] -- CMD`: runs the command, returns exit code and output. */
export async function podExec(runtime: ContainerRuntime, pod: Pod, container: string | undefined, cmd: string[], timeoutMs?: number): Promise<ExecResult> {
  return runtime.exec(await findPodContainer(runtime, pod, container), cmd, { timeoutMs });
}
