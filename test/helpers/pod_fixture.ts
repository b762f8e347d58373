/**
 * Shared set-up for the pod/node integration tests on real Docker: a real API (nats-server +
 * store), a node agent with a unique name and a fast back-off, and clean-up by label.
 */
import Docker from "dockerode";
import type { ApiClient } from "../../model/client.ts";
import { LABELS } from "../../model/container_runtime.ts";
import type { Event, Pod } from "../../model/types.ts";
import type { DockerRuntime } from "../../runtime/containers/docker.ts";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { type NodeAgent, type NodeAgentOptions, startNodeAgent } from "../../runtime/kubelet/agent.ts";
import { startTestApi, type TestApi, waitFor } from "./api.ts";
import { cleanupNode, requireDocker, uniqueNodeName } from "./docker.ts";

export { waitFor };

export interface PodEnv {
  api: ApiClient;
  test: TestApi;
  rt: DockerRuntime;
  node: string;
  agent: NodeAgent;
  startAgent(extra?: Partial<NodeAgentOptions>): Promise<NodeAgent>;
  cleanup(): Promise<void>;
}

export async function podEnv(test: TestApi, extra: Partial<NodeAgentOptions> = {}): Promise<PodEnv> {
  const rt = await requireDocker();
  const node = uniqueNodeName("pt");
  const agents: NodeAgent[] = [];
  const startAgent = async (more: Partial<NodeAgentOptions> = {}) => {
    const a = await startNodeAgent({
      client: test.api,
      runtime: rt,
      name: node,
      heartbeatIntervalMs: 1000,
      backoff: { baseMs: 300, maxMs: 5000 },
      resyncMs: 2000,
      ...extra,
      ...more,
    });
    agents.push(a);
    return a;
  };
  const agent = await startAgent();
  return {
    api: test.api,
    test,
    rt,
    node,
    agent,
    startAgent,
    async cleanup() {
      for (const a of agents) await a.stop();
      await cleanupNode(node);
    },
  };
}

export { startTestApi };

export interface UsePodEnvOptions {
  /** One node and agent for the whole file (started in beforeAll) instead of a fresh one per test. */
  shared?: boolean;
  /** Node agent options on top of the fixture's. */
  agent?: Partial<NodeAgentOptions>;
  /** Runs in afterAll once the last env is cleaned up, before the API stops. */
  afterCleanup?: () => unknown;
}

/**
 * Registers the hooks of a pod test file on Docker: the API is started in beforeAll and stopped in
 * afterAll; a node and its agent (a `podEnv`) are made in beforeEach and cleaned up in afterEach,
 * or once for the file with `shared`. Returns the env, whose fields are filled in when it is
 * made, so tests read `env.api`, `env.node`, `env.rt` as before. Hooks the file registers after
 * this call run after these set-up hooks and, vitest running after-hooks in reverse, before the
 * clean-up ones.
 */
export function usePodEnv(opts: UsePodEnvOptions = {}): PodEnv {
  const env = {} as PodEnv;
  let test: TestApi | undefined;
  let current: PodEnv | undefined;
  const make = async () => {
    current = await podEnv(test!, opts.agent);
    Object.assign(env, current);
  };
  const cleanup = async () => {
    const c = current;
    current = undefined;
    await c?.cleanup();
  };
  beforeAll(async () => {
    test = await startTestApi();
    if (opts.shared) await make();
  });
  if (!opts.shared) {
    beforeEach(make);
    afterEach(cleanup);
  }
  afterAll(async () => {
    try {
      await cleanup();
      await opts.afterCleanup?.();
    } finally {
      await test?.stop();
    }
  });
  return env;
}

/** A pod manifest bound to `node` (the scheduler is not part of these tests). */
export function pod(name: string, node: string, spec: Partial<Pod["spec"]> & { containers: Pod["spec"]["containers"] }, annotations?: Record<string, string>): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", ...(annotations ? { annotations } : {}) },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, ...spec },
  };
}

export async function getPod(api: ApiClient, name: string): Promise<Pod> {
  return api.get("pods", name, "default");
}

export function containerStatus(p: Pod, name: string) {
  return p.status?.containerStatuses?.find((c) => c.name === name);
}

export function isReady(p: Pod): boolean {
  return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

export async function waitRunning(api: ApiClient, name: string, timeoutMs = 20_000): Promise<Pod> {
  return waitFor(async () => {
    const p = await getPod(api, name);
    return p.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.state.running) ? p : undefined;
  }, `pod ${name} Running`, timeoutMs);
}

export async function eventsFor(api: ApiClient, podName: string): Promise<Event[]> {
  const l = await api.list("events", { namespace: "default" });
  return l.items.filter((e) => e.involvedObject.name === podName);
}

export async function waitGone(api: ApiClient, name: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => {
    try {
      await getPod(api, name);
      return false;
    } catch {
      return true;
    }
  }, `pod ${name} gone`, timeoutMs);
}

/** The id of container `container` of pod `podName` on the env's node, once the engine lists it running (30 s at most). */
export async function containerOf(env: PodEnv, podName: string, container: string): Promise<string> {
  const docker = new Docker();
  return await waitFor(async () => {
    const cs = await docker.listContainers({ filters: { label: [`${LABELS.node}=${env.node}`, `${LABELS.podName}=${podName}`, `${LABELS.container}=${container}`] } });
    return cs[0]?.Id;
  }, `container ${container} of ${podName} running`, 30_000);
}

/** What `sh -c script` prints in container `id`. */
export async function shIn(env: PodEnv, id: string, script: string): Promise<string> {
  return (await env.rt.exec(id, ["sh", "-c", script])).stdout;
}
