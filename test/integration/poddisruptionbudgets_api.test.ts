/**
 * policy/v1 PodDisruptionBudgets as kubectl 1.32 users see them, against the REST API over a
 * real store: `kubectl create poddisruptionbudget`, `get pdb` with kube-apiserver's columns,
 * `apply -f` of a percentage, updates of the spec (patch, edit, apply; the generation counts
 * them), the status subresource, the inputs refused with kube-apiserver's messages (and nothing
 * stored), `get -o yaml` read back by `replace`, `describe pdb`, the berth CLI's get and describe,
 * and quota's object count.
 *
 * No control plane runs here, so nothing depends on the disruption controller: a budget keeps the
 * empty status kube-apiserver gives a new one, and the status the tables read is one this test
 * writes through the status subresource, as the controller would. No Docker here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import type { PodDisruptionBudget, ResourceQuota } from "../../model/types.ts";

let h: RestHarness;
const editorBefore = process.env.KUBE_EDITOR;

const ok = (args: string[], stdin?: string): Promise<string> => h.kubectlOk(args, { stdin, timeoutMs: 60_000 });
/** A kubectl run that must fail; resolves with its stderr. */
const refused = (args: string[], stdin?: string): Promise<string> => h.kubectlFails(args, { stdin, timeoutMs: 60_000 });
const get = (name: string, ns = "default"): Promise<PodDisruptionBudget> => h.test.api.get("poddisruptionbudgets", name, ns);

/** A budget as a user writes it. */
const manifest = (name: string, spec: string) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: ${name}
spec:
${spec}
`;

/** The empty status kube-apiserver stores for a new budget (its counts are never omitted). */
const EMPTY_STATUS = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };

beforeAll(async () => {
  // `kubectl edit` runs $KUBE_EDITOR on the object's YAML (through the shell, as it has quotes):
  // here an editor that raises minAvailable from 3 to 4. The harness hands kubectl this environment.
  process.env.KUBE_EDITOR = "sed -i -e 's/^  minAvailable: 3$/  minAvailable: 4/'";
  h = await startRestHarness();
}, 30_000);

afterAll(async () => {
  if (editorBefore === undefined) delete process.env.KUBE_EDITOR;
  else process.env.KUBE_EDITOR = editorBefore;
  await h?.stop();
});

describe.sequential("kubectl and policy/v1 PodDisruptionBudgets (REST, no control plane)", () => {
  it("kubectl create poddisruptionbudget --selector --min-available stores the budget kube-apiserver would: a count, the selector as matchLabels, generation 1, the empty status", async () => {
    expect(await ok(["create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=2"])).toBe("poddisruptionbudget.policy/web created\n");
    const web = await get("web");
    expect(web.apiVersion).toBe("policy/v1");
    expect(web.spec).toEqual({ minAvailable: 2, selector: { matchLabels: { app: "web" } } });
    expect(web.metadata.generation).toBe(1);
    expect(web.status).toEqual(EMPTY_STATUS);
    // --max-unavailable with a percentage, and the short name.
    expect(await ok(["create", "pdb", "api", "--selector=app=api,tier notin (canary)", "--max-unavailable=50%"])).toBe("poddisruptionbudget.policy/api created\n");
    expect((await get("api")).spec).toEqual({ maxUnavailable: "50%", selector: { matchLabels: { app: "api" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["canary"] }] } });
    expect(await ok(["delete", "pdb", "api"])).toBe('poddisruptionbudget.policy "api" deleted\n');
  });

  it("kubectl get pdb (and poddisruptionbudgets, poddisruptionbudgets.policy) prints NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", async () => {
    const table = await ok(["get", "pdb"]);
    expect(table).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\n/);
    expect(table).toMatch(/\nweb\s+2\s+N\/A\s+0\s+\d+s\n$/);
    expect(await ok(["get", "poddisruptionbudgets", "--no-headers"])).toMatch(/^web\s+2\s+N\/A\s+0\s+\d+s\n$/);
    expect(await ok(["get", "poddisruptionbudgets.policy", "web", "-o", "name"])).toBe("poddisruptionbudget.policy/web\n");
    expect(await ok(["get", "pdb", "--field-selector", "metadata.name=web", "-o", "name"])).toBe("poddisruptionbudget.policy/web\n");
    expect(await ok(["get", "pdb", "-A", "--no-headers"])).toMatch(/^default\s+web\s+2\s+N\/A\s+0\s+\d+s\n$/);
    // Not in `all`, as on Kubernetes.
    expect(await ok(["get", "all", "-o", "name"])).not.toContain("poddisruptionbudget");
  });

  it("kubectl apply -f of a budget with maxUnavailable \"50%\" creates it (strict field validation knows the kind), applied again is unchanged; a typo is an unknown field", async () => {
    const half = manifest("half", "  maxUnavailable: 50%\n  selector:\n    matchLabels: {app: half}");
    expect(await ok(["apply", "-f", "-"], half)).toBe("poddisruptionbudget.policy/half created\n");
    const created = await get("half");
    expect(created.spec).toEqual({ maxUnavailable: "50%", selector: { matchLabels: { app: "half" } } });
    expect(await ok(["get", "pdb", "half", "--no-headers"])).toMatch(/^half\s+N\/A\s+50%\s+0\s+\d+s\n$/);
    expect(await ok(["apply", "-f", "-"], half)).toBe("poddisruptionbudget.policy/half unchanged\n");
    expect((await get("half")).metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const typo = await refused(["apply", "-f", "-"], manifest("typo", "  maxUnavailible: 1"));
    expect(typo).toMatch(/unknown field "spec\.maxUnavailible"/);
  });

  it("the spec may change after creation (patch, edit, apply), each change one generation; the status stays; metadata alone leaves the generation", async () => {
    expect(await ok(["patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":3}}'])).toBe("poddisruptionbudget.policy/web patched\n");
    let web = await get("web");
    expect(web.spec.minAvailable).toBe(3);
    expect(web.metadata.generation).toBe(2);
    expect(web.status).toEqual(EMPTY_STATUS);

    expect(await ok(["edit", "pdb", "web"])).toBe("poddisruptionbudget.policy/web edited\n");
    web = await get("web");
    expect(web.spec.minAvailable).toBe(4);
    expect(web.metadata.generation).toBe(3);

    expect(await ok(["label", "pdb", "web", "team=a"])).toBe("poddisruptionbudget.policy/web labeled\n");
    expect((await get("web")).metadata.generation).toBe(3);

    // A strategic merge patch (kubectl's default) from one bound to the other.
    expect(await ok(["patch", "pdb", "web", "-p", '{"spec":{"minAvailable":null,"maxUnavailable":"25%"}}'])).toBe("poddisruptionbudget.policy/web patched\n");
    web = await get("web");
    expect(web.spec).toEqual({ maxUnavailable: "25%", selector: { matchLabels: { app: "web" } } });
    expect(web.metadata.generation).toBe(4);
    expect(await ok(["get", "pdb", "web", "--no-headers"])).toMatch(/^web\s+N\/A\s+25%\s+0\s+/);

    // kubectl apply's three-way merge: a new selector with a label taken out, and the other bound.
    expect(await ok(["apply", "-f", "-"], manifest("half", "  minAvailable: 1\n  selector:\n    matchLabels: {app: half, tier: db}"))).toBe("poddisruptionbudget.policy/half configured\n");
    expect((await get("half")).spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: "half", tier: "db" } } });
    expect(await ok(["apply", "-f", "-"], manifest("half", "  minAvailable: 1\n  selector:\n    matchLabels: {tier: db}\n  unhealthyPodEvictionPolicy: AlwaysAllow"))).toBe("poddisruptionbudget.policy/half configured\n");
    const half = await get("half");
    expect(half.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { tier: "db" } }, unhealthyPodEvictionPolicy: "AlwaysAllow" });
    expect(half.metadata.generation).toBe(3);
  });

  it("the status is written only through the status subresource: its writes keep the spec and the generation, a plain update keeps the status", async () => {
    const before = await get("web");
    const status = { observedGeneration: before.metadata.generation, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: before.metadata.generation, lastTransitionTime: "2026-12-04T10:00:00Z" }] };
    expect(await ok(["patch", "pdb", "web", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status, spec: { maxUnavailable: 9 } })])).toBe("poddisruptionbudget.policy/web patched\n");
    const after = await get("web");
    expect(after.status).toEqual(status);
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(JSON.parse(await ok(["get", "--raw", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web/status"])).status).toEqual(status);
    expect(await ok(["get", "pdb", "web", "--no-headers"])).toMatch(/^web\s+N\/A\s+25%\s+1\s+/);

    // Through the main resource, a status is ignored.
    expect(await ok(["patch", "pdb", "web", "--type=merge", "-p", '{"status":{"disruptionsAllowed":7}}'])).toBe("poddisruptionbudget.policy/web patched (no change)\n");
    expect((await get("web")).status?.disruptionsAllowed).toBe(1);
    // A status write is validated as kube-apiserver's ValidatePodDisruptionBudgetStatusUpdate.
    expect(await refused(["patch", "pdb", "web", "--subresource=status", "--type=merge", "-p", '{"status":{"disruptionsAllowed":-1}}']))
      .toContain('The PodDisruptionBudget "web" is invalid: status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0');
    // A status sent with a create is dropped: the new budget has the empty one.
    const withStatus = JSON.stringify({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "eager" }, spec: { minAvailable: 1 }, status: { disruptionsAllowed: 5, currentHealthy: 5, desiredHealthy: 0, expectedPods: 5 } });
    expect(await ok(["create", "-f", "-"], withStatus)).toBe("poddisruptionbudget.policy/eager created\n");
    expect((await get("eager")).status).toEqual(EMPTY_STATUS);
    await ok(["delete", "pdb", "eager"]);
  });

  it("a budget with both minAvailable and maxUnavailable is refused with kube-apiserver's message, and nothing is stored; so are the other invalid specs", async () => {
    const both = await refused(["apply", "-f", "-"], manifest("both", "  minAvailable: 2\n  maxUnavailable: 50%\n  selector:\n    matchLabels: {app: both}"));
    expect(both).not.toMatch(/unknown field/);
    expect(both).toMatch(/The PodDisruptionBudget "both" is invalid: spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set/);
    expect(await refused(["get", "pdb", "both"])).toMatch(/NotFound.*"both" not found/);
    expect(await h.test.api.list("poddisruptionbudgets", { namespace: "default" })).toMatchObject({ items: [{ metadata: { name: "half" } }, { metadata: { name: "web" } }] });
    expect(await refused(["create", "pdb", "both2", "--selector=app=x", "--min-available=1", "--max-unavailable=1"])).toMatch(/min-available and max-unavailable cannot be both specified|cannot be both set/);

    // On an existing budget too: the update is refused and the budget stays as it was.
    const web = await get("web");
    expect(await refused(["patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":1}}'])).toMatch(/spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set/);
    expect((await get("web")).metadata.resourceVersion).toBe(web.metadata.resourceVersion);

    const invalid = async (name: string, spec: string, pattern: RegExp) => {
      const stderr = await refused(["apply", "-f", "-"], manifest(name, spec));
      expect(stderr).toMatch(new RegExp(`The PodDisruptionBudget "${name}" is invalid: `));
      expect(stderr).toMatch(pattern);
    };
    await invalid("negative", "  minAvailable: -1", /spec\.minAvailable: Invalid value: -1: must be greater than or equal to 0/);
    await invalid("over", "  maxUnavailable: 101%", /spec\.maxUnavailable: Invalid value: "101%": must not be greater than 100%/);
    await invalid("words", "  minAvailable: half", /spec\.minAvailable: Invalid value: "half": a valid percent string must be a numeric string followed by an ending '%' \(e\.g\. '1%',  or '93%', regex used for validation is '\[0-9\]\+%'\)/);
    await invalid("policy", "  minAvailable: 1\n  unhealthyPodEvictionPolicy: Never", /spec\.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"/);
    expect(await ok(["get", "pdb", "-o", "name"])).toBe("poddisruptionbudget.policy/half\npoddisruptionbudget.policy/web\n");
  });

  it("kubectl get pdb -o yaml reads back: replace with it changes nothing, and a budget made again from it (server fields taken off) is the same budget", async () => {
    const yaml = await ok(["get", "pdb", "web", "-o", "yaml"]);
    expect(yaml).toMatch(/^apiVersion: policy\/v1\nkind: PodDisruptionBudget\n/);
    expect(yaml).toMatch(/^ {2}maxUnavailable: 25%$/m);
    expect(yaml).toMatch(/^ {2}disruptionsAllowed: 1$/m);
    const before = await get("web");
    expect(await ok(["replace", "-f", "-"], yaml)).toBe("poddisruptionbudget.policy/web replaced\n");
    const after = await get("web");
    expect(after).toEqual(before);

    const json = JSON.parse(await ok(["get", "pdb", "web", "-o", "json"]));
    await ok(["delete", "pdb", "web"]);
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, ...metadata } = json.metadata;
    expect(await ok(["create", "-f", "-"], JSON.stringify({ ...json, metadata }))).toBe("poddisruptionbudget.policy/web created\n");
    const again = await get("web");
    expect(again.spec).toEqual(before.spec);
    expect(again.metadata.labels).toEqual(before.metadata.labels);
    expect(again.metadata.generation).toBe(1);
    expect(again.status).toEqual(EMPTY_STATUS);
  });

  it("kubectl describe pdb (and berth describe pdb, berth get pdb) show the bound, the selector and the status' counts", async () => {
    const text = await ok(["describe", "pdb", "half"]);
    expect(text).toMatch(/^Name:\s+half$/m);
    expect(text).toMatch(/^Namespace:\s+default$/m);
    expect(text).toMatch(/^Min available:\s+1$/m);
    expect(text).toMatch(/^Selector:\s+tier=db$/m);
    expect(text).toMatch(/^Status:\n\s+Allowed disruptions:\s+0\n\s+Current:\s+0\n\s+Desired:\s+0\n\s+Total:\s+0$/m);

    let out = "";
    await describeCmd(h.test.remote, ["pdb", "half"], {}, (x) => (out += x));
    expect(out).toMatch(/^Name:\s+half\nNamespace:\s+default\nMin available:\s+1\nSelector:\s+tier=db\nStatus:\n {4}Allowed disruptions:\s+0\n/);
    expect(out).toMatch(/^Events:\s+<none>$/m);

    out = "";
    await getCmd(h.test.remote, ["poddisruptionbudgets"], {}, (x) => (out += x));
    expect(out).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nhalf\s+1\s+N\/A\s+0\s+\S+\nweb\s+N\/A\s+25%\s+0\s+\S+\n$/);
    out = "";
    await getCmd(h.test.remote, ["pdb", "half"], { output: "name" }, (x) => (out += x));
    expect(out).toBe("poddisruptionbudget.policy/half\n");
  });

  it("quota: count/poddisruptionbudgets.policy counts budgets", async () => {
    await ok(["create", "namespace", "pdb-quota"]);
    await ok(["create", "quota", "budgets", "-n", "pdb-quota", "--hard=count/poddisruptionbudgets.policy=1"]);
    expect(await ok(["create", "pdb", "one", "-n", "pdb-quota", "--selector=app=one", "--min-available=1"])).toBe("poddisruptionbudget.policy/one created\n");
    expect(await refused(["create", "pdb", "two", "-n", "pdb-quota", "--selector=app=two", "--min-available=1"]))
      .toMatch(/exceeded quota: budgets, requested: count\/poddisruptionbudgets\.policy=1, used: count\/poddisruptionbudgets\.policy=1, limited: count\/poddisruptionbudgets\.policy=1/);
    const q: ResourceQuota = await h.test.api.get("resourcequotas", "budgets", "pdb-quota");
    expect(q.status?.used).toEqual({ "count/poddisruptionbudgets.policy": "1" });
    // Deleting the namespace takes its budgets with it.
    await ok(["delete", "namespace", "pdb-quota"]);
    expect(await h.test.api.list("poddisruptionbudgets", { namespace: "pdb-quota" })).toMatchObject({ items: [] });
  });

  it("kubectl delete pdb removes it", async () => {
    expect(await ok(["delete", "pdb", "web", "half"])).toBe('poddisruptionbudget.policy "web" deleted\npoddisruptionbudget.policy "half" deleted\n');
    expect(await ok(["get", "pdb", "-o", "name"])).toBe("");
  });
});
