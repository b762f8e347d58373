/**
 * `berth describe` of the RBAC kinds, as kubectl's Role, ClusterRole, RoleBinding and
 * ClusterRoleBinding describers print them (k8s.io/kubectl/pkg/describe): no events.
 *
 * A role's rules are printed as kubectl breaks them down and compacts them (pkg/util/rbac): one
 * row per API group and resource (and per resource name) or non-resource URL, the rows of one
 * group/resource differing only in verbs merged, sorted by the rule's protobuf `String()` form
 * (verbs first, as kubectl sorts them). Lists print as Go's `%v` (`[get list]`).
 */
import type { ClusterRole, PolicyRule, Role, RoleBinding } from "../../model/types.ts";

/** Go's `%v` of a string slice. */
const goList = (v: readonly string[] | undefined) => `[${(v ?? []).join(" ")}]`;

/** kubectl's BreakdownRule: one rule per group × resource (× resource name), one per non-resource URL. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      if (rule.resourceNames?.length) {
        for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], verbs: rule.verbs, resourceNames: [name] });
      } else out.push({ apiGroups: [group], resources: [resource], verbs: rule.verbs });
    }
  }
  for (const url of rule.nonResourceURLs ?? []) out.push({ nonResourceURLs: [url], verbs: rule.verbs });
  return out;
}

/** kubectl's CompactRules: rules of one group, resource and resource name that differ only in verbs become one (verbs in order of first appearance). */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = (r.resourceNames?.length ?? 0) <= 1 && !r.nonResourceURLs?.length && r.apiGroups?.length === 1 && r.resources?.length === 1;
    if (!isSimple) {
      compacted.push(r);
      continue;
    }
    const key = JSON.stringify([r.apiGroups![0], r.resources![0], r.resourceNames?.[0] ?? null]);
    const existing = simple.get(key);
    if (!existing) simple.set(key, { ...r, verbs: [...r.verbs] });
    else for (const v of r.verbs) if (!existing.verbs.includes(v)) existing.verbs.push(v);
  }
  return [...compacted, ...simple.values()];
}

/** The generated protobuf `String()` of a PolicyRule, by which kubectl sorts the rows. */
const ruleString = (r: PolicyRule) =>
  `&PolicyRule{Verbs:${goList(r.verbs)},APIGroups:${goList(r.apiGroups)},Resources:${goList(r.resources)},ResourceNames:${goList(r.resourceNames)},NonResourceURLs:${goList(r.nonResourceURLs)},}`;

/** kubectl's CombineResourceGroup: `deployments.apps`, `pods`, `deployments.apps/scale`. */
function resourceGroup(resources: readonly string[] | undefined, groups: readonly string[] | undefined): string {
  if (!resources?.length) return "";
  const [resource, sub] = resources[0].split(/\/(.*)/s);
  return `${resource}${groups?.length && groups[0] !== "" ? `.${groups[0]}` : ""}${sub !== undefined ? `/${sub}` : ""}`;
}

/** Rows aligned as Go's tabwriter aligns one block (padding 2); the last cell is not padded. */
function tabbed(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)) + 2);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("") + "\n").join("");
}

/** Labels as kubectl's printLabelsMultiline: sorted `k=v`, one per line under the first, or `<none>`. */
function labelLines(m: Record<string, string> | undefined): string[][] {
  const keys = Object.keys(m ?? {}).sort();
  if (!keys.length) return [["Labels:", "<none>"]];
  return keys.map((k, i) => [i === 0 ? "Labels:" : "", `${k}=${m![k]}`]);
}

/** kubectl's maxAnnotationLen: a longer annotation (or one of several lines) is printed under its key, each line shortened. */
const MAX_ANNOTATION_LEN = 140;
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Annotations as kubectl's printAnnotationsMultiline: sorted `k: v` without kubectl's last-applied one, or `<none>`. */
function annotationLines(m: Record<string, string> | undefined): string[][] {
  const keys = Object.keys(m ?? {}).filter((k) => k !== LAST_APPLIED).sort();
  if (!keys.length) return [["Annotations:", "<none>"]];
  const out: string[][] = [];
  keys.forEach((k, i) => {
    const title = i === 0 ? "Annotations:" : "";
    const value = m![k].replace(/\n$/, "");
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes("\n")) {
      out.push([title, `${k}:`]);
      for (const line of value.split("\n")) out.push(["", `  ${line.length > MAX_ANNOTATION_LEN - 2 ? `${line.slice(0, MAX_ANNOTATION_LEN - 2)}...` : line}`]);
    } else out.push([title, `${k}: ${value}`]);
  });
  return out;
}

/** The Name, Labels and Annotations block both describers open with. */
const header = (m: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }) => tabbed([["Name:", m.name], ...labelLines(m.labels), ...annotationLines(m.annotations)]);

/** kubectl's Role and ClusterRole describers. */
export function describeRole(role: Role | ClusterRole): string {
  const rules = compactRules((role.rules ?? []).flatMap(breakdownRule));
  // sort.Stable by the rule's String(): equal strings keep their order.
  const sorted = rules.map((r, i) => [ruleString(r), i, r] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1])).map(([, , r]) => r);
  const head = header(role.metadata);
  const table = tabbed([
    ["  Resources", "Non-Resource URLs", "Resource Names", "Verbs"],
    ["  ---------", "-----------------", "--------------", "-----"],
    ...sorted.map((r) => [`  ${resourceGroup(r.resources, r.apiGroups)}`, goList(r.nonResourceURLs), goList(r.resourceNames), goList(r.verbs)]),
  ]);
  return head + "PolicyRule:\n" + table;
}

/** kubectl's RoleBinding and ClusterRoleBinding describers. */
export function describeBinding(b: RoleBinding): string {
  const head = header(b.metadata);
  const role = tabbed([["  Kind:", b.roleRef.kind], ["  Name:", b.roleRef.name]]);
  const subjects = tabbed([
    ["  Kind", "Name", "Namespace"],
    ["  ----", "----", "---------"],
    ...(b.subjects ?? []).map((s) => [`  ${s.kind}`, s.name, s.namespace ?? ""]),
  ]);
  return head + "Role:\n" + role + "Subjects:\n" + subjects;
}
