/**
 * ServiceAccounts: stored and served like Kubernetes' (kubectl create serviceaccount posts
 * protobuf; `kubectl get sa` prints NAME SECRETS AGE; an app's manifest with a ServiceAccount
 * applies), and the control plane's service account controller keeps a `default` one in every
 * namespace that is not being deleted. Berth issues no tokens.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { waitFor } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { ApiError } from "../../model/errors.ts";

let h: RestHarness;
let cp: ControlPlane;

const ok = (args: string[], stdin?: string): Promise<string> => h.kubectlOk(args, { stdin });

beforeAll(async () => {
  h = await startRestHarness();
  cp = await startControlPlane({ client: h.test.api, services: false, scheduledEvents: false });
});
afterAll(async () => {
  await cp?.stop();
  await h?.stop();
});

const defaultUid = async (ns: string) => (await h.test.api.get("serviceaccounts", "default", ns).catch(() => undefined))?.metadata.uid;

describe("service accounts", () => {
  it("a namespace deleted as soon as it is made goes, whatever the controller does meanwhile", async () => {
    for (let i = 0; i < 5; i++) {
      const name = `brief-${i}`;
      await h.test.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
      const out = await h.test.api.delete("namespaces", name);
      expect((out as { status?: { phase?: string } }).status?.phase).toBe("Terminating");
      await expect(h.test.api.get("namespaces", name)).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 404);
      expect((await h.test.api.list("serviceaccounts", { namespace: name })).items).toEqual([]);
    }
  });

  it("every namespace gets a default ServiceAccount, made again when deleted, and none once the namespace is being deleted", async () => {
    await waitFor(() => defaultUid("default"), "default/default");
    await h.test.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } });
    const first = await waitFor(() => defaultUid("team"), "team/default");
    await h.test.api.delete("serviceaccounts", "default", "team");
    const second = await waitFor(async () => {
      const uid = await defaultUid("team");
      return uid && uid !== first ? uid : undefined;
    }, "team/default made again");
    expect(second).not.toBe(first);

    // A namespace held Terminating by an object's finalizer: its default account goes with its
    // content and is not made again.
    await h.test.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", namespace: "team", finalizers: ["example.com/keep"] } }, "team");
    const terminating = await h.test.api.delete("namespaces", "team");
    expect((terminating as { status?: { phase?: string } }).status?.phase).toBe("Terminating");
    await waitFor(() => cp.informers.namespaces.list().find((n) => n.metadata.name === "team")?.metadata.deletionTimestamp, "the controller sees the namespace Terminating");
    // The controller does not even try (admission would refuse it anyway).
    const tried: unknown[] = [];
    const real = h.test.api.create.bind(h.test.api);
    const create = vi.spyOn(h.test.api, "create").mockImplementation(async (resource, raw, ns) => {
      tried.push([resource, ns]);
      return await real(resource, raw, ns);
    });
    try {
      const passes = () => cp.serviceAccounts.loop.actor.getSnapshot().context.passes;
      const before = passes();
      cp.serviceAccounts.loop.wake();
      await waitFor(() => passes() > before, "a pass after the mark");
    } finally {
      create.mockRestore();
    }
    expect(tried).toEqual([]);
    expect(await defaultUid("team")).toBeUndefined();
    const held = await h.test.api.get("configmaps", "held", "team");
    await h.test.api.update("configmaps", { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await expect(h.test.api.get("namespaces", "team")).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 404);
  });

  it("kubectl - create serviceaccount (protobuf), get sa with Kubernetes' columns, apply an app that names one, delete", async () => {
    await ok(["create", "serviceaccount", "builder"]);
    const table = await ok(["get", "sa"]);
    expect(table).toMatch(/^NAME\s+SECRETS\s+AGE\n/);
    expect(table).toMatch(/\nbuilder\s+0\s+\d+s\n/);
    expect(table).toMatch(/\ndefault\s+0\s+/);

    const app = `
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
imagePullSecrets: [{name: registry}]
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers: [{name: web, image: berth/busybox:latest}]
`;
    expect(await ok(["apply", "-f", "-"], app)).toBe("serviceaccount/web created\ndeployment.apps/web created\n");
    expect(await ok(["get", "serviceaccount", "web", "-o", "jsonpath={.imagePullSecrets[0].name} {.automountServiceAccountToken}"])).toBe("registry false");
    expect(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.serviceAccountName}"])).toBe("web");

    const bad = await h.kubectl(["apply", "--validate=false", "-f", "-"], { stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: worse}\nautomountServiceAccountToken: \"yes\"\n" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("automountServiceAccountToken");

    await ok(["delete", "sa", "builder", "web"]);
    expect(await ok(["get", "sa", "-o", "name"])).toBe("serviceaccount/default\n");
  });

  it("a new pod names its ServiceAccount: default when none is given, the deprecated serviceAccount when only that is", async () => {
    const pod = (name: string, spec: Record<string, unknown> = {}) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec: {containers: [{name: c, image: berth/busybox:latest}]${Object.entries(spec).map(([k, v]) => `, ${k}: ${v}`).join("")}}
`;
    await ok(["create", "-f", "-"], pod("plain"));
    await ok(["create", "-f", "-"], pod("named", { serviceAccountName: "builder" }));
    await ok(["create", "-f", "-"], pod("old-style", { serviceAccount: "builder" }));
    const sa = (name: string) => ok(["get", "pod", name, "-o", "jsonpath={.spec.serviceAccountName}"]);
    expect(await sa("plain")).toBe("default");
    expect(await sa("named")).toBe("builder");
    expect(await sa("old-style")).toBe("builder");
    // The pod as read back can be written back; a replace of the manifest as written (no account
    // named) keeps the one admission gave it, as the pod's priority is kept.
    const got = await h.test.api.get("pods", "plain", "default");
    await h.test.api.update("pods", { ...got, metadata: { ...got.metadata, labels: { touched: "yes" } } });
    await ok(["replace", "-f", "-"], pod("plain").replace("metadata: {name: plain}", "metadata: {name: plain, labels: {replaced: \"yes\"}}"));
    expect(await ok(["get", "pod", "plain", "-o", "jsonpath={.metadata.labels.replaced} {.spec.serviceAccountName}"])).toBe("yes default");
    expect(await h.kubectlFails(["patch", "pod", "named", "--type=merge", "-p", '{"spec":{"serviceAccountName":"other"}}'])).toContain("pod updates may not change fields other than");
    await ok(["delete", "pod", "plain", "named", "old-style", "--grace-period=0"]);
  });
});
