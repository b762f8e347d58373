/**
 * The ServiceAccount token volume as a process in a pod sees it, on real Docker: a real API
 * (nats-server + store) that signs tokens, the real node agent on this machine's engine, and
 * what `rest.InClusterConfig` reads from inside the container.
 *
 *   - /var/run/secrets/kubernetes.io/serviceaccount holds token (signed, bound to the pod),
 *     ca.crt and namespace, read-only (on tmpfs when the agent may mount); the master service's
 *     variables are set even with enableServiceLinks false; a container that mounts its own
 *     volume there sees that one;
 *   - a new CA and a renewed token appear in the running container, in place;
 *   - nothing is left on the node (no directory, no mount) once the pod is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../model/types.ts";
import { ephemeralServiceAccountTokens, type ServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";
import type { TestApi } from "../helpers/api.ts";
import { getPod, podEnv, type PodEnv, startTestApi, waitFor, waitGone, waitRunning } from "../helpers/pod_fixture.ts";
import { containerOf as containerOfPod, shIn } from "../helpers/pod_fixture.ts";

const IMAGE = "berth/busybox:latest";
const DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

describe("ServiceAccount token volume on Docker", () => {
  let test: TestApi;
  let env: PodEnv;
  let tokens: ServiceAccountTokens;
  let podsDir: string;

  beforeAll(async () => {
    tokens = await ephemeralServiceAccountTokens();
    test = await startTestApi({ tokens });
    // What the control plane and the API server process provide in a cluster.
    await test.api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "default" } }, "default");
    await test.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: "default" }, data: { "ca.crt": "CA-1\n" } }, "default");
    await test.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kubernetes", namespace: "default" },
      spec: { type: "ClusterIP", clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }] },
    }, "default");
    // Tokens of the pod "renewed" come back with ten minutes left of their hour: always due.
    const createToken = test.impl.createToken.bind(test.impl);
    test.impl.createToken = async (name, namespace, request) => {
      const tr = await createToken(name, namespace, request);
      const pod = (request as { spec?: { boundObjectRef?: { name?: string } } }).spec?.boundObjectRef?.name;
      return pod === "renewed" ? { ...tr, status: { ...tr.status, expirationTimestamp: new Date(Date.now() + 600_000).toISOString() } } : tr;
    };
    podsDir = mkdtempSync(join(tmpdir(), "berth-sa-docker-"));
    env = await podEnv(test, { podsDir, configRefreshMs: 300 });
  }, 60_000);
  afterAll(async () => {
    await env?.cleanup();
    await test?.stop();
    if (podsDir) rmSync(podsDir, { recursive: true, force: true });
  });

  const containerOf = (p: string, name: string) => containerOfPod(env, p, name);
  const sh = (id: string, script: string) => shIn(env, id, script);
  const pod = (name: string, spec: Partial<Pod["spec"]>): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName: env.node, terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: IMAGE, command: ["sleep", "3600"] }], ...spec },
  });
  const nodeMounts = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(podsDir));

  it("token volume - in-cluster clients find token, ca.crt, namespace and the API's address; a container's own mount there wins", async () => {
    await env.api.create("pods", pod("reader", {
      enableServiceLinks: false,
      containers: [
        { name: "app", image: IMAGE, command: ["sleep", "3600"] },
        { name: "own", image: IMAGE, command: ["sleep", "3600"], volumeMounts: [{ name: "mine", mountPath: DIR }] },
      ],
      volumes: [{ name: "mine", emptyDir: {} }],
    }));
    const p = await waitRunning(env.api, "reader", 30_000);
    const app = await containerOf("reader", "app");
    const claims = await tokens.verify(await sh(app, `cat ${DIR}/token`));
    expect(claims).toMatchObject({ namespace: "default", serviceAccount: { name: "default" }, bound: { kind: "Pod", name: "reader", uid: p.metadata.uid }, node: { name: env.node } });
    expect(await sh(app, `cat ${DIR}/ca.crt`)).toBe("CA-1\n");
    expect(await sh(app, `cat ${DIR}/namespace`)).toBe("default");
    expect((await sh(app, `ls ${DIR}`)).split("\n").filter(Boolean).sort()).toEqual(["ca.crt", "namespace", "token"]);
    expect((await sh(app, `stat -L -c %a ${DIR}/token`)).trim()).toBe("644");
    expect(await sh(app, `touch ${DIR}/x 2>&1 || echo refused`)).toMatch(/refused/);
    if (process.getuid?.() === 0) expect(await sh(app, `grep " ${DIR} " /proc/mounts`)).toMatch(/ tmpfs ro/);
    expect(await sh(app, "echo $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT $KUBERNETES_PORT_443_TCP_ADDR")).toBe("10.96.0.1:443 10.96.0.1\n");
    const own = await containerOf("reader", "own");
    expect(await sh(own, `ls -A ${DIR}`)).toBe("");
  });

  it("token volume - a new CA and a renewed token reach the running container in place; nothing is left once the pod goes", async () => {
    await env.api.create("pods", pod("renewed", {}));
    const p = await waitRunning(env.api, "renewed", 30_000);
    const id = await containerOf("renewed", "app");
    const first = await sh(id, `cat ${DIR}/token`);
    await waitFor(async () => (await sh(id, `cat ${DIR}/token`)) !== first, "a renewed token in the container", 15_000);
    expect((await tokens.verify(await sh(id, `cat ${DIR}/token`)))?.bound?.uid).toBe(p.metadata.uid);
    const cm = await env.api.get("configmaps", "kube-root-ca.crt", "default");
    await env.api.update("configmaps", { ...cm, data: { "ca.crt": "CA-2\n" } });
    await waitFor(async () => (await sh(id, `cat ${DIR}/ca.crt`)) === "CA-2\n", "the new CA in the container", 15_000);
    // The same container all along.
    expect((await getPod(env.api, "renewed")).status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(await containerOf("renewed", "app")).toBe(id);

    await env.api.delete("pods", "renewed", "default");
    await env.api.delete("pods", "reader", "default");
    await waitGone(env.api, "renewed", 30_000);
    await waitGone(env.api, "reader", 30_000);
    await waitFor(() => !existsSync(join(podsDir, p.metadata.uid!)), "the pod's directory removed", 15_000);
    expect(nodeMounts()).toEqual([]);
  });
});
