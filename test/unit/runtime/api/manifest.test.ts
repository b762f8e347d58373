import { describe, expect, it } from "vitest";
import { BadRequestError, InvalidError } from "../../../../model/errors.ts";
import { ManifestError, parseManifests, validateManifests } from "../../../../runtime/api/manifest.ts";
import { MAX_OBJECT_BYTES } from "../../../../runtime/api/validation.ts";

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: web
    image: berth/busybox
`;

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
`;

/** The ManifestError thrown by `fn`. */
function manifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    expect(e).toBeInstanceOf(BadRequestError);
    expect((e as Error).name).toBe("ManifestError");
    return e as ManifestError;
  }
  throw new Error("expected a ManifestError");
}

describe("manifests - parsing", () => {
  it("reads several YAML documents, skipping empty ones, with document numbers and lines", () => {
    const docs = parseManifests(`${POD}---\n# nothing here\n---\n${SERVICE}---\n`, "app.yaml");
    expect(docs.map((d) => [d.resource, d.source, d.index, d.line])).toEqual([
      ["pods", "app.yaml", 1, 1],
      ["services", "app.yaml", 3, 13],
    ]);
    expect(docs[0].object).toMatchObject({ kind: "Pod", metadata: { name: "web", labels: { app: "web" } } });
  });

  it("reads JSON, including a JSON object spread over lines", () => {
    const docs = parseManifests(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }, null, 2), "ns.json");
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ resource: "namespaces", source: "ns.json", index: 1, line: 1 });
  });

  it("expands kind: List and v1 <Kind>List into their items, with each item's line", () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a}
- apiVersion: v1
  kind: Service
  metadata: {name: b}
---
apiVersion: v1
kind: PodList
items: []
`;
    const docs = parseManifests(text, "list.yaml");
    expect(docs.map((d) => [d.resource, d.index, d.item, d.line])).toEqual([
      ["pods", 1, 0, 4],
      ["services", 1, 1, 7],
    ]);
    const json = parseManifests(JSON.stringify({ apiVersion: "v1", kind: "ServiceList", items: [{ apiVersion: "v1", kind: "Service", metadata: { name: "x" } }] }));
    expect(json.map((d) => [d.resource, d.source, d.item])).toEqual([["services", "<stdin>", 0]]);
  });

  it("reads YAML 1.2: yes/no and n stay strings, timestamps stay strings", () => {
    const [doc] = parseManifests(`apiVersion: v1\nkind: Node\nmetadata:\n  name: n\n  labels: {enabled: yes}\n  creationTimestamp: 2024-01-01T00:00:00Z\n`);
    expect(doc.object.metadata).toEqual({ name: "n", labels: { enabled: "yes" }, creationTimestamp: "2024-01-01T00:00:00Z" });
  });

  it("returns nothing for empty text", () => {
    expect(parseManifests("")).toEqual([]);
    expect(parseManifests("---\n---\n# only a comment\n")).toEqual([]);
  });
});

describe("manifests - bad input names where", () => {
  it("an unknown kind, with the kinds Berth serves", () => {
    const e = manifestError(() => parseManifests(`${POD}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: x}\n`, "deploy.yaml"));
    expect(e.message).toBe(
      'deploy.yaml: document 2 (line 11): unknown kind "Gateway" (Berth serves: Namespace, Pod, ReplicationController, Service, Endpoints, EndpointSlice, Node, Event, ResourceQuota, Deployment, ReplicaSet, ConfigMap, Secret, ServiceAccount, Job, CronJob, DaemonSet, PersistentVolumeClaim, StatefulSet, ControllerRevision, PodDisruptionBudget, HorizontalPodAutoscaler, Role, RoleBinding, ClusterRole, ClusterRoleBinding, PriorityClass, Lease, NetworkPolicy, Ingress, IngressClass)',
    );
    expect(e.code).toBe(400);
    expect([e.source, e.index, e.line]).toEqual(["deploy.yaml", 2, 11]);
  });

  it("a YAML syntax error, with line and column", () => {
    const e = manifestError(() => parseManifests(`${POD}---\napiVersion: v1\nkind: Pod\nmetadata: {name: [x\n`, "bad.yaml"));
    expect(e.message).toMatch(/^bad\.yaml: document 2 \(line 11\): YAML syntax error at line 14, column 1: .*end with a \]/);
  });

  it("tabs used as indentation", () => {
    expect(manifestError(() => parseManifests("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n", "t.yaml")).message).toMatch(
      /^t\.yaml: document 1 \(line 1\): YAML syntax error at line 4, column 1/,
    );
  });

  it("duplicate keys", () => {
    expect(manifestError(() => parseManifests("apiVersion: v1\nkind: Pod\nkind: Service\n")).message).toMatch(/line 3.*Map keys must be unique/);
  });

  it("malformed JSON", () => {
    expect(manifestError(() => parseManifests('{"apiVersion": "v1", "kind": "Pod", "metadata": {', "x.json")).message).toMatch(
      /^x\.json: document 1 \(line 1\): YAML syntax error at line 1, column \d+/,
    );
  });

  it("a document that is not a mapping", () => {
    expect(manifestError(() => parseManifests(`${POD}---\n- a\n- b\n`, "f.yaml")).message).toBe(
      "f.yaml: document 2 (line 11): a document must be a mapping (an object), not a list",
    );
    expect(manifestError(() => parseManifests("just text")).message).toMatch(/<stdin>: document 1 \(line 1\): a document must be a mapping.*string/);
  });

  it("missing kind or apiVersion, or a kind under another apiVersion", () => {
    expect(manifestError(() => parseManifests("apiVersion: v1\nmetadata: {name: x}\n")).message).toMatch(/document 1 \(line 1\): missing "kind"/);
    expect(manifestError(() => parseManifests("kind: Pod\nmetadata: {name: x}\n")).message).toMatch(/missing "apiVersion"/);
    expect(manifestError(() => parseManifests("apiVersion: v1\nkind: [Pod]\n")).message).toMatch(/"kind" must be a string/);
    expect(manifestError(() => parseManifests("apiVersion: apps/v1\nkind: Pod\n")).message).toMatch(/kind "Pod" is served as apiVersion "v1", not "apps\/v1"/);
  });

  it("an item of a List, by its position", () => {
    const e = manifestError(() => parseManifests("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n- apiVersion: v1\n  kind: PersistentVolume\n", "l.yaml"));
    expect(e.message).toBe('l.yaml: document 1 (line 6) item 1: unknown kind "PersistentVolume" (Berth serves: Namespace, Pod, ReplicationController, Service, Endpoints, EndpointSlice, Node, Event, ResourceQuota, Deployment, ReplicaSet, ConfigMap, Secret, ServiceAccount, Job, CronJob, DaemonSet, PersistentVolumeClaim, StatefulSet, ControllerRevision, PodDisruptionBudget, HorizontalPodAutoscaler, Role, RoleBinding, ClusterRole, ClusterRoleBinding, PriorityClass, Lease, NetworkPolicy, Ingress, IngressClass)');
  });

  it("an alias bomb", () => {
    const rows = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [p, n] of [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"], ["e", "f"]]) rows.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(", ")}]`);
    rows.push("apiVersion: v1", "kind: Pod");
    expect(manifestError(() => parseManifests(rows.join("\n"), "bomb.yaml")).message).toMatch(/^bomb\.yaml: document 1 \(line 1\): .*alias/i);
  });
});

describe("manifests - validating a whole file", () => {
  it("returns the validated objects when every document is valid", () => {
    const out = validateManifests(parseManifests(`${POD}---\n${SERVICE}`));
    expect(out.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Pod/web", "Service/web"]);
  });

  it("rejects the file listing every invalid document with its location and field", () => {
    const text = `${POD}---\napiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: []}\n---\n${SERVICE}---\napiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 0}]}\n`;
    const e = manifestError(() => validateManifests(parseManifests(text, "app.yaml")));
    const lines = e.message.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^app\.yaml: document 2 \(line 11\): Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name".*spec\.containers: Required value/);
    expect(lines[1]).toMatch(/^app\.yaml: document 4 \(line 25\): Service "db" is invalid: spec\.ports\[0\]\.port: Invalid value: 0/);
    expect(e.errors).toHaveLength(2);
    expect(e.errors[0]).toBeInstanceOf(InvalidError);
    expect(e.details?.causes?.map((c) => c.field)).toEqual([
      "app.yaml: document 2 (line 11): metadata.name",
      "app.yaml: document 2 (line 11): spec.containers",
      "app.yaml: document 4 (line 25): spec.ports[0].port",
    ]);
    expect([e.index, e.line]).toEqual([2, 11]);
  });

  it("rejects an oversized document", () => {
    const huge = JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", annotations: { a: "x".repeat(MAX_OBJECT_BYTES) } }, spec: { containers: [{ name: "c", image: "i" }] } });
    const e = manifestError(() => validateManifests(parseManifests(huge, "huge.json")));
    expect(e.message).toMatch(/^huge\.json: document 1 \(line 1\): the object is too large/);
    expect(e.errors[0].reason).toBe("RequestEntityTooLarge");
  });
});
