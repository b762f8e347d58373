/**
 * Docker for integration tests: checks the engine answers and the base image exists (else a
 * loud error telling to run `npm run setup` — tests never skip), gives each test a unique node
 * name, and removes everything labelled with that node afterwards.
 */
import { execFileSync } from "node:child_process";
import Docker from "dockerode";
import { DockerRuntime, INFRA_IMAGE } from "../../runtime/containers/docker.ts";
import { LABELS } from "../../model/container_runtime.ts";

/** Debian's client (speaks API 1.41); /usr/local/bin may hold a newer one. */
export const DOCKER_CLI = "/usr/bin/docker";

/** A runtime on the machine's engine, after checking that the engine and base image are there. */
export async function requireDocker(): Promise<DockerRuntime> {
  const rt = new DockerRuntime();
  try {
    await rt.ping();
  } catch (e) {
    throw new Error(`Docker engine not reachable at /var/run/docker.sock: run \`npm run setup\` first (${(e as Error).message})`);
  }
  if (!(await rt.hasImage(INFRA_IMAGE))) {
    throw new Error(`base image ${INFRA_IMAGE} is missing: run \`npm run setup\` first`);
  }
  return rt;
}

/** A node name no other test (or engineer) uses. */
export function uniqueNodeName(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Removes every container and volume labelled with `node` (never anything else). */
export async function cleanupNode(node: string, docker: Docker = new Docker()): Promise<void> {
  const cs = await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`] } });
  await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
  const vs = await docker.listVolumes({ filters: { label: [`${LABELS.node}=${node}`] } });
  await Promise.all((vs.Volumes ?? []).map((v) => docker.getVolume(v.Name).remove().catch(() => {})));
}

/** Removes named volumes by name (persistent volumes carry no node label). */
export async function removeVolumes(names: string[], docker: Docker = new Docker()): Promise<void> {
  await Promise.all(names.map((n) => docker.getVolume(n).remove({ force: true }).catch(() => {})));
}

/** Runs the Debian docker CLI and returns stdout. */
export function dockerCli(args: string[], opts: { host?: string } = {}): string {
  return execFileSync(DOCKER_CLI, [...(opts.host ? ["-H", opts.host] : []), ...args], { encoding: "utf8" });
}
