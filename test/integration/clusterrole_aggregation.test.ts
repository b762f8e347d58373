/**
 * The clusterrole-aggregation controller against a real API (nats-server + JetStream KV store +
 * Api) with the control plane running: the bootstrap `admin`, `edit` and `view` the API made at
 * start are filled with kube's rules, and a ClusterRole labelled
 * `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends view, edit and admin for as long
 * as it exists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ClusterRole, PolicyRule } from "../../model/types.ts";

const RBAC = "rbac.authorization.k8s.io";
let t: TestApi;
let cp: ControlPlane;

beforeAll(async () => {
  t = await startTestApi();
  cp = await startControlPlane({ client: t.api, services: false, scheduledEvents: false });
}, 30_000);
afterAll(async () => {
  await cp?.stop();
  await t?.stop();
});

const rulesOf = async (name: string): Promise<PolicyRule[]> => (await t.api.get("clusterroles", name)).rules ?? [];
/** A rule as a comparable string (an absent list is an empty one). */
const ruleKey = (r: PolicyRule) => JSON.stringify([r.verbs, r.apiGroups ?? [], r.resources ?? [], r.resourceNames ?? [], r.nonResourceURLs ?? []]);
/** True when every one of `wanted` is among `rules`. */
const holdsAll = (rules: readonly PolicyRule[], wanted: readonly PolicyRule[]) => {
  const have = new Set(rules.map(ruleKey));
  return wanted.every((w) => have.has(ruleKey(w)));
};

const WIDGETS: PolicyRule = { verbs: ["get", "list", "watch"], apiGroups: ["example.com"], resources: ["widgets"] };

describe("clusterrole aggregation over a real API", () => {
  it("after start, view holds kube's read rules, edit view's and its own, admin edit's and the power to grant roles", async () => {
    const viewRules = await rulesOf("system:aggregate-to-view");
    const editRules = await rulesOf("system:aggregate-to-edit");
    const adminRules = await rulesOf("system:aggregate-to-admin");
    expect(viewRules.length).toBeGreaterThan(0);
    await waitFor(async () => holdsAll(await rulesOf("view"), viewRules), "view aggregated");
    await waitFor(async () => holdsAll(await rulesOf("edit"), [...viewRules, ...editRules]), "edit aggregated (view's rules and its own)");
    await waitFor(async () => holdsAll(await rulesOf("admin"), [...viewRules, ...editRules, ...adminRules]), "admin aggregated (edit's rules and its own)");
    expect((await rulesOf("admin")).some((r) => r.apiGroups?.includes(RBAC) && r.resources?.includes("rolebindings") && r.verbs.includes("create"))).toBe(true);
    expect((await rulesOf("edit")).some((r) => r.apiGroups?.includes(RBAC))).toBe(false);
  });

  it("a ClusterRole labelled aggregate-to-view adds its rules to view, edit and admin; deleted, they go again", async () => {
    const extra: ClusterRole = {
      apiVersion: `${RBAC}/v1`,
      kind: "ClusterRole",
      metadata: { name: "widgets-reader", labels: { [`${RBAC}/aggregate-to-view`]: "true" } },
      rules: [WIDGETS],
    };
    await t.api.create("clusterroles", extra);
    for (const name of ["view", "edit", "admin"]) await waitFor(async () => holdsAll(await rulesOf(name), [WIDGETS]), `${name} holds the widgets rule`);

    await t.api.delete("clusterroles", "widgets-reader");
    for (const name of ["view", "edit", "admin"]) await waitFor(async () => !holdsAll(await rulesOf(name), [WIDGETS]), `${name} lets the widgets rule go`);
    // What the bootstrap roles bring stays.
    expect(holdsAll(await rulesOf("view"), await rulesOf("system:aggregate-to-view"))).toBe(true);
  });
});
