/**
 * kubectl 1.32's server-side dry runs against the REST API over a real store: `--dry-run=server`
 * on create, apply, scale, label, delete and drain, and `kubectl diff` (a dry-run patch or create
 * compared with the live object) print what they would do and store nothing; a `dryRun` value
 * other than `All` is kube-apiserver's 422. No control plane and no Docker here.
 */
import { describe, expect, it } from "vitest";
import { deploymentYaml, kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import type { Deployment } from "../../model/types.ts";

const h = useRestHarness({}, 30_000);
const { ok } = kubectlRunners(h, 60_000);
const deployment = (): Promise<Deployment> => h.test.api.get("deployments", "web", "default");
/** The store's revision now (a dry run leaves it where it was). */
const revision = (): Promise<number> => h.test.impl.cache.sync();

const manifest = (replicas: number, image?: string) => deploymentYaml("web", { replicas, image, labelled: true });

describe.sequential("kubectl --dry-run=server and kubectl diff (REST, no control plane)", () => {
  it("kubectl create --dry-run=server -o json prints the object as kube-apiserver would store it (uid, defaults, no resourceVersion) and stores nothing", async () => {
    const before = await revision();
    const out = JSON.parse(await ok(["create", "deployment", "web", "--image=berth/busybox:latest", "--dry-run=server", "-o", "json"])) as Deployment;
    expect(out.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.metadata.resourceVersion).toBeUndefined();
    expect(out.metadata.generation).toBe(1);
    expect(out.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
    expect(await ok(["create", "deployment", "web", "--image=berth/busybox:latest", "--dry-run=server"])).toBe("deployment.apps/web created (server dry run)\n");
    expect((await h.kubectl(["get", "deployment", "web"])).stderr).toContain('Error from server (NotFound): deployments.apps "web" not found');
    expect(await revision()).toBe(before);
  });

  it("kubectl apply --dry-run=server says created, then (after a real apply) configured or unchanged, and the stored object stays as it was", async () => {
    expect(await ok(["apply", "--dry-run=server", "-f", "-"], manifest(1))).toBe("deployment.apps/web created (server dry run)\n");
    expect((await h.kubectl(["get", "deployment", "web"])).code).not.toBe(0);
    expect(await ok(["apply", "-f", "-"], manifest(1))).toBe("deployment.apps/web created\n");
    const applied = await deployment();
    const before = await revision();
    expect(await ok(["apply", "--dry-run=server", "-f", "-"], manifest(3))).toBe("deployment.apps/web configured (server dry run)\n");
    expect(await ok(["apply", "--dry-run=server", "-f", "-"], manifest(1))).toBe("deployment.apps/web unchanged (server dry run)\n");
    expect(await revision()).toBe(before);
    expect(await deployment()).toEqual(applied);
  });

  it("kubectl diff shows a changed field and exits 1, exits 0 with nothing to show when the manifest matches, and shows a new object whole", async () => {
    const before = await revision();
    const changed = await h.kubectl(["diff", "-f", "-"], { stdin: manifest(3, "berth/busybox:2"), timeoutMs: 60_000 });
    expect(changed.stderr).toBe("");
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+replicas: 1$/m);
    expect(changed.stdout).toMatch(/^\+\s+replicas: 3$/m);
    expect(changed.stdout).toMatch(/^\+\s+- image: berth\/busybox:2$/m);
    // The spec changed, so the generation would too (the dry-run patch answered it).
    expect(changed.stdout).toMatch(/^-\s+generation: 1$/m);
    expect(changed.stdout).toMatch(/^\+\s+generation: 2$/m);
    const same = await h.kubectl(["diff", "-f", "-"], { stdin: manifest(1), timeoutMs: 60_000 });
    expect(same).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const added = await h.kubectl(["diff", "-f", "-"], { stdin: manifest(2).replaceAll("web", "api"), timeoutMs: 60_000 });
    expect(added.code).toBe(1);
    expect(added.stdout).toMatch(/^\+\s+name: api$/m);
    expect(added.stdout).toMatch(/^\+\s+uid: /m);
    expect(await revision()).toBe(before);
  });

  it("kubectl scale, label and delete with --dry-run=server print their outcome and change nothing", async () => {
    const applied = await deployment();
    const before = await revision();
    expect(await ok(["scale", "deployment", "web", "--replicas=5", "--dry-run=server"])).toBe("deployment.apps/web scaled (server dry run)\n");
    expect(await ok(["label", "deployment", "web", "tier=front", "--dry-run=server"])).toBe("deployment.apps/web labeled (server dry run)\n");
    expect(await ok(["set", "image", "deployment/web", "web=berth/busybox:3", "--dry-run=server"])).toBe("deployment.apps/web image updated (server dry run)\n");
    expect(await ok(["delete", "deployment", "web", "--dry-run=server"])).toBe('deployment.apps "web" deleted (server dry run)\n');
    expect(await revision()).toBe(before);
    expect(await deployment()).toEqual(applied);
  });

  it("kubectl drain --dry-run=server names the pods it would evict and neither cordons the node nor evicts them", async () => {
    await h.test.api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: {} });
    await h.test.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "lone" }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } }, "default");
    await h.test.api.bind("lone", "default", "n1");
    const before = await revision();
    const r = await h.kubectl(["drain", "n1", "--dry-run=server", "--force"], { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("node/n1 cordoned (server dry run)");
    expect(r.stdout).toContain("evicting pod default/lone (server dry run)");
    expect(r.stdout).toContain("node/n1 drained (server dry run)");
    expect(await revision()).toBe(before);
    expect((await h.test.api.get("nodes", "n1")).spec.unschedulable).toBeUndefined();
    expect((await h.test.api.get("pods", "lone", "default")).metadata.deletionTimestamp).toBeUndefined();
  });

  it("a dryRun other than All is refused with kube-apiserver's 422, on a create and on a delete", async () => {
    const pod = JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "raw" }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } });
    const raw = await h.kubectl(["create", "--raw", "/api/v1/namespaces/default/pods?dryRun=Some", "-f", "-"], { stdin: pod, timeoutMs: 60_000 });
    expect(raw.code).not.toBe(0);
    // kubectl words a 422 from its details: "The <kind> <name> is invalid: <causes>".
    expect(raw.stderr).toContain('The CreateOptions "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"');
    const del = await h.kubectl(["delete", "--raw", "/api/v1/namespaces/default/pods/lone?dryRun=All&dryRun=x"], { timeoutMs: 60_000 });
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain('The DeleteOptions "" is invalid: dryRun: Unsupported value: ["All", "x"]: supported values: "All"');
    expect(await h.test.api.get("pods", "lone", "default")).toBeTruthy();
    expect((await h.kubectl(["get", "pod", "raw"])).code).not.toBe(0);
  });
});
