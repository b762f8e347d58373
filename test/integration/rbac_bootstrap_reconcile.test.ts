/**
 * An API server starting on a cluster made by an older Berth brings the bootstrap RBAC policy up
 * to date, as kube-apiserver's post-start hook does, and keeps what the operator changed.
 * A real store on nats-server; the second API server opens the same store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { Api } from "../../runtime/api/api.ts";
import { AUTOUPDATE_ANNOTATION, BOOTSTRAP_CLUSTER_ROLES } from "../../model/rbac_bootstrap.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.stop();
});

describe("bootstrap RBAC policy at API start", () => {
  it("adds the rules and subjects an older cluster lacks, keeps the operator's, obeys autoupdate false, recreates a binding with another roleRef", async () => {
    const expectedBasic = BOOTSTRAP_CLUSTER_ROLES.find((r) => r.metadata.name === "system:basic-user")!;
    // As an older Berth left them, plus an operator's changes.
    const basic = await t.api.get("clusterroles", "system:basic-user");
    await t.api.update("clusterroles", { ...basic, rules: [expectedBasic.rules![0], { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }] });
    const info = await t.api.get("clusterroles", "system:public-info-viewer");
    await t.api.update("clusterroles", { ...info, metadata: { ...info.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: "false" } }, rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }] });
    const discovery = await t.api.get("clusterrolebindings", "system:discovery");
    await t.api.update("clusterrolebindings", { ...discovery, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" }] });
    await t.api.delete("clusterrolebindings", "system:basic-user");
    await t.api.create("clusterrolebindings", { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "system:basic-user", labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" }, subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: "system:authenticated" }] });

    const second = await Api.open(t.store);
    try {
      const after = await t.api.get("clusterroles", "system:basic-user");
      expect(after.rules).toEqual([expectedBasic.rules![0], { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }, ...expectedBasic.rules!.slice(1)]);
      // Pinned by the operator: exactly as left.
      expect((await t.api.get("clusterroles", "system:public-info-viewer")).rules).toEqual([{ verbs: ["get"], nonResourceURLs: ["/healthz"] }]);
      const subjects = (await t.api.get("clusterrolebindings", "system:discovery")).subjects!.map((s) => s.name);
      expect(subjects).toEqual(["alice", "system:authenticated"]);
      const remade = await t.api.get("clusterrolebindings", "system:basic-user");
      expect(remade.roleRef.name).toBe("system:basic-user");
      expect(remade.subjects!.map((s) => s.name)).toEqual(["system:authenticated"]);
      // A second start finds nothing more to do.
      const rv = (await t.api.get("clusterroles", "system:basic-user")).metadata.resourceVersion;
      const third = await Api.open(t.store);
      third.close();
      expect((await t.api.get("clusterroles", "system:basic-user")).metadata.resourceVersion).toBe(rv);
    } finally {
      second.close();
    }
  });
});
