/**
 * The ServiceAccount token the kubelet mounts into pods, through the API: a real nats-server that
 * enforces the node's own identity (so every read and TokenRequest goes through the Node
 * authorizer), an API that signs tokens, and the real node agent on the hollow runtime (which
 * records the container specs it is given). A hollow node writes no token files (volumes_projected.ts);
 * the files themselves, seen from inside containers, are service_account_token_docker.test.ts's.
 *
 *   - a pod's containers are given the token volume's mount at the in-cluster path (not one that
 *     mounts its own volume there); the token asked for is signed for the pod's account and bound
 *     to the pod; every pod has the master service's variables (enableServiceLinks false, another
 *     namespace); nothing is refused to the node;
 *   - no account: ContainerCreating with FailedMount, then Running once it exists;
 *   - a token is asked for once while it is not due, and renewed when it is, while its container
 *     runs on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ContainerSpec } from "../../model/container_runtime.ts";
import type { Event, Pod } from "../../model/types.ts";
import { Api } from "../../runtime/api/api.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import { ephemeralServiceAccountTokens, type ServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";
import { HOLLOW_ANNOTATIONS, HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { makeNatsAuth } from "../../runtime/nats/auth.ts";
import { connectNats } from "../../runtime/nats/connection.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { waitFor } from "../helpers/nats.ts";

const NODE = "node-sa";
const MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The hollow engine, keeping every container spec it was asked to create. */
class RecordingRuntime extends HollowRuntime {
  readonly specs: ContainerSpec[] = [];
  override async createContainer(spec: ContainerSpec): Promise<string> {
    const id = await super.createContainer(spec);
    this.specs.push(spec);
    return id;
  }
}

describe("ServiceAccount token volume and master service variables (hollow node, node identity)", () => {
  let server: NatsServerHandle;
  let cp: NatsConnection;
  let nodeConn: NatsConnection;
  let api: Api;
  let tokens: ServiceAccountTokens;
  let apiServer: NatsApiServer;
  let agent: NodeAgent;
  let rt: RecordingRuntime;
  let podsDir: string;
  const logs: string[] = [];

  const volumeDir = (p: Pod) => join(podsDir, p.metadata.uid!, "volumes", "berth~service-account-token", "kube-api-access");
  /** The tokens the API issued to the node, by the pod each is bound to. */
  const issued = new Map<string, string[]>();
  const tokensOf = (p: Pod) => issued.get(p.metadata.name) ?? [];
  const setUpNamespace = async (ns: string, ca: string) => {
    if (ns !== "default") await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } }, ns);
    await api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: ns }, data: { "ca.crt": ca } }, ns);
  };
  const makePod = (name: string, ns: string, spec: Partial<Pod["spec"]> = {}, annotations?: Record<string, string>): Promise<Pod> =>
    api.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: "berth/busybox" }], ...spec },
    }, ns) as Promise<Pod>;
  const running = (name: string, ns: string) =>
    waitFor(async () => ((await api.get("pods", name, ns)) as Pod).status?.phase === "Running", `${ns}/${name} Running`, 15_000).catch(async (e) => {
      const p = (await api.get("pods", name, ns)) as Pod;
      const events = (await api.list("events", { namespace: ns })).items.map((x) => `${(x as Event).reason}: ${(x as Event).message}`);
      throw new Error(`${(e as Error).message}; status ${JSON.stringify(p.status)}; events ${JSON.stringify(events)}; log ${logs.slice(-5).join(" | ")}`);
    });
  const specsOf = (p: Pod) => rt.specs.filter((s) => s.pod.uid === p.metadata.uid);

  beforeAll(async () => {
    const auth = makeNatsAuth({ nodeNames: [NODE] });
    server = await startNatsServer({ authorization: auth.serverConfig });
    cp = await connectNats({ servers: server.url, ...auth.controlPlane });
    tokens = await ephemeralServiceAccountTokens();
    api = await Api.open(await KvStore.open(cp), { tokens });
    const createToken = api.createToken.bind(api);
    api.createToken = async (name, namespace, request) => {
      const tr = await createToken(name, namespace, request);
      const pod = (request as { spec: { boundObjectRef: { name: string } } }).spec.boundObjectRef.name;
      issued.set(pod, [...(issued.get(pod) ?? []), tr.status.token]);
      // The pod "renewed" gets tokens with ten minutes left of their hour: always due for renewal.
      return pod === "renewed" ? { ...tr, status: { ...tr.status, expirationTimestamp: new Date(Date.now() + 600_000).toISOString() } } : tr;
    };
    apiServer = serveApiOverNats(cp, api);
    await apiServer.ready;
    await setUpNamespace("default", "CA-default");
    await api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kubernetes", namespace: "default" },
      spec: { type: "ClusterIP", clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }] },
    }, "default");
    await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { clusterIP: "10.96.0.9", ports: [{ port: 80 }] } }, "default");
    const creds = auth.node(NODE);
    nodeConn = await connectNats({ servers: server.url, user: creds.user, pass: creds.pass });
    podsDir = mkdtempSync(join(tmpdir(), "berth-sa-pods-"));
    rt = new RecordingRuntime();
    agent = await startNodeAgent({
      client: new NatsApiClient(nodeConn, { node: NODE }),
      runtime: rt,
      name: NODE,
      podsDir,
      heartbeatIntervalMs: 500,
      resyncMs: 500,
      backoff: { baseMs: 200, maxMs: 1000 },
      configRefreshMs: 200,
      log: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields ?? {})}`),
    });
  }, 30_000);
  afterAll(async () => {
    await agent?.stop();
    await apiServer?.stop();
    await nodeConn?.close();
    await cp?.close();
    await server?.stop();
    if (podsDir) rmSync(podsDir, { recursive: true, force: true });
  });

  it("token volume - every container without its own mount there is given the token volume, with a token bound to its pod; the master service's variables are set even without service links", async () => {
    await setUpNamespace("team-a", "CA-team-a");
    await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: "team-a" }, spec: { clusterIP: "10.96.0.20", ports: [{ port: 5432 }] } }, "team-a");
    // Every container runs 0.2 s and exits 0 (so the init container lets the app containers start).
    const p = await makePod("reader", "team-a", {
      restartPolicy: "Never",
      enableServiceLinks: false,
      initContainers: [{ name: "init", image: "berth/busybox" }],
      containers: [{ name: "app", image: "berth/busybox" }, { name: "own", image: "berth/busybox", volumeMounts: [{ name: "mine", mountPath: MOUNT }] }],
      volumes: [{ name: "mine", emptyDir: {} }],
    }, { [HOLLOW_ANNOTATIONS.runFor]: "0.2" });
    await waitFor(async () => ((await api.get("pods", "reader", "team-a")) as Pod).status?.phase === "Succeeded", "team-a/reader Succeeded", 15_000);
    expect(tokensOf(p)).toHaveLength(1);
    const claims = await tokens.verify(tokensOf(p)[0]);
    expect(claims).toMatchObject({ namespace: "team-a", serviceAccount: { name: "default" }, bound: { kind: "Pod", name: "reader", uid: p.metadata.uid }, node: { name: NODE } });
    expect(claims!.expiresAt.getTime() - claims!.issuedAt.getTime()).toBe(3607_000);

    const byName = Object.fromEntries(specsOf(p).map((s) => [s.name, s]));
    const tokenMounts = (s: ContainerSpec) => (s.mounts ?? []).filter((m) => m.target === MOUNT);
    expect(tokenMounts(byName.init)).toEqual([{ type: "bind", source: volumeDir(p), target: MOUNT, readOnly: true }]);
    expect(tokenMounts(byName.app)).toEqual(tokenMounts(byName.init));
    // The container that mounts its own volume there keeps it.
    expect(tokenMounts(byName.own).map((m) => m.type)).toEqual(["volume"]);
    // A hollow node writes no files.
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);

    for (const s of Object.values(byName)) {
      expect(s.env).toMatchObject({
        KUBERNETES_SERVICE_HOST: "10.96.0.1",
        KUBERNETES_SERVICE_PORT: "443",
        KUBERNETES_SERVICE_PORT_HTTPS: "443",
        KUBERNETES_PORT: "tcp://10.96.0.1:443",
        KUBERNETES_PORT_443_TCP: "tcp://10.96.0.1:443",
        KUBERNETES_PORT_443_TCP_PROTO: "tcp",
        KUBERNETES_PORT_443_TCP_PORT: "443",
        KUBERNETES_PORT_443_TCP_ADDR: "10.96.0.1",
      });
      expect(Object.keys(s.env ?? {}).filter((k) => /^(DB|WEB)_/.test(k))).toEqual([]);
    }
  });

  it("token volume - a pod whose account does not exist waits in ContainerCreating with FailedMount, and runs once it does", async () => {
    const p = await makePod("robot-pod", "default", { serviceAccountName: "robot" });
    const why = `MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: serviceaccounts "robot" not found`;
    await waitFor(async () => {
      const cur = (await api.get("pods", "robot-pod", "default")) as Pod;
      const waiting = cur.status?.containerStatuses?.[0]?.state?.waiting;
      return cur.status?.phase === "Pending" && waiting?.reason === "ContainerCreating";
    }, "robot-pod ContainerCreating", 15_000);
    await waitFor(async () => (await api.list("events", { namespace: "default" })).items.some((e) => {
      const ev = e as Event;
      return ev.involvedObject?.name === "robot-pod" && ev.reason === "FailedMount" && ev.message === why;
    }), "a FailedMount event naming the missing account", 15_000);
    expect(specsOf(p)).toEqual([]);
    await api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot", namespace: "default" } }, "default");
    await running("robot-pod", "default");
    expect((await tokens.verify(tokensOf(p).at(-1)!))?.serviceAccount.name).toBe("robot");
    // A pod in `default` with links has the other services' variables too.
    expect(specsOf(p)[0].env).toMatchObject({ KUBERNETES_SERVICE_HOST: "10.96.0.1", WEB_SERVICE_PORT: "80" });
  });

  it("token volume - a token is asked for once while not due and renewed when due, its container running on", async () => {
    const steady = await makePod("steady", "default");
    const renewed = await makePod("renewed", "default");
    await running("steady", "default");
    await running("renewed", "default");
    await waitFor(() => tokensOf(renewed).length >= 3, "the token of renewed renewed twice", 15_000);
    // Meanwhile (several refresh passes) steady's token was not asked for again.
    expect(tokensOf(steady)).toHaveLength(1);
    // In place: the same container all along.
    expect(specsOf(renewed)).toHaveLength(1);
    expect(((await api.get("pods", "renewed", "default")) as Pod).status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(logs.filter((l) => /Forbidden|403|not refreshed/i.test(l))).toEqual([]);
  });
});
