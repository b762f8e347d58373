/**
 * Fuzzing manifest input: random text, random YAML built from random values, and mutations of
 * the example manifests (byte flips, deleted/duplicated lines, YAML bombs, anchors, tags,
 * deep nesting) into `parseManifests` and `validateManifests`. Each run ends in documents or
 * in an `ApiError` (a 400/422 naming the location) — never another exception, never a hang —
 * and what validates is then accepted or refused by a real Api with a Status that is not a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { stringify } from "yaml";
import { ApiError } from "../../model/errors.ts";
import { parseManifests, validateManifests } from "../../runtime/api/manifest.ts";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { snapshot, changed, type Snapshot } from "../helpers/fuzz_snapshot.ts";
import { deepJson, deepYaml } from "../helpers/deep_inputs.ts";

const seeds = [
  `apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: httpd
          image: berth/busybox
          command: ["httpd", "-f", "-p", "8080"]
          ports:
            - containerPort: 8080
              name: http
          readinessProbe:
            httpGet: {path: /, port: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: http
`,
  `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: Pod
    metadata: {name: one, namespace: fuzz}
    spec:
      volumes: [{name: d, emptyDir: {}}]
      containers: [{name: c, image: berth/busybox, volumeMounts: [{name: d, mountPath: /d}], resources: {limits: {cpu: 500m, memory: 64Mi}}}]
  - apiVersion: v1
    kind: Namespace
    metadata: {name: fuzz-made}
`,
  `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"berth/busybox","env":[{"name":"A","value":"1"}]}]}}`,
];

const hostile = fc.constantFrom(
  "a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d]\n",
  "!!binary aGVsbG8=",
  "kind: !!js/function 'function(){}'\n",
  "apiVersion: v1\nkind: Pod\nmetadata: {name: x, <<: {namespace: kube-system}}\n",
  "---\n---\n---\n",
  "[".repeat(2000),
  "a:\n" + "  ".repeat(500) + "b: 1\n",
  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\n  name: dup2\n",
  "\uFEFFapiVersion: v1\nkind: Namespace\nmetadata: {name: bom}\n",
  "apiVersion: v1\nkind: Pod\n__proto__: {polluted: true}\nmetadata: {name: proto}\nspec: {containers: [{name: c, image: i}]}\n",
  '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","__proto__":{"x":1}},"spec":{"containers":[]}}',
);

function mutateText(text: string, ops: { kind: number; at: number; byte: number; len: number }[]): string {
  let lines = text.split("\n");
  let s = text;
  for (const op of ops) {
    switch (op.kind % 5) {
      case 0: // flip a character
        s = lines.join("\n");
        if (s.length) {
          const i = op.at % s.length;
          s = s.slice(0, i) + String.fromCharCode(op.byte) + s.slice(i + 1);
        }
        lines = s.split("\n");
        break;
      case 1: // delete a line
        lines.splice(op.at % Math.max(1, lines.length), 1);
        break;
      case 2: // duplicate a line
        if (lines.length) lines.splice(op.at % lines.length, 0, lines[op.at % lines.length]);
        break;
      case 3: // re-indent a line
        if (lines.length) lines[op.at % lines.length] = " ".repeat(op.len % 9) + lines[op.at % lines.length].trimStart();
        break;
      case 4: // truncate
        lines = lines.join("\n").slice(0, op.at % (lines.join("\n").length + 1)).split("\n");
        break;
    }
  }
  return lines.join("\n");
}

const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.array(fc.record({ kind: fc.nat(), at: fc.nat(), byte: fc.integer({ min: 0, max: 0x7f }), len: fc.nat() }), { minLength: 1, maxLength: 6 }))
  .map(([seed, ops]) => mutateText(seed, ops));

const yamlOfValues = fc
  .record({ apiVersion: fc.oneof(fc.constant("v1"), fc.anything()), kind: fc.oneof(fc.constantFrom("Pod", "Service", "ReplicationController", "Namespace", "Node", "Event", "Endpoints", "List", "Deployment"), fc.anything()), metadata: fc.oneof(fc.record({ name: fc.oneof(fc.constantFrom("ok", "x-1"), fc.string()) }), fc.anything()), spec: fc.anything(), items: fc.anything() }, { requiredKeys: [] })
  .map((v) => {
    try {
      return stringify(v);
    } catch {
      return JSON.stringify(v) ?? "";
    }
  });

const text = fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 2, arbitrary: yamlOfValues }, { weight: 1, arbitrary: fc.string({ maxLength: 400 }) }, { weight: 1, arbitrary: hostile });

/** Parses and validates; returns the objects, or null for a proper ApiError. Anything else throws. */
function ingest(input: string): { resource: string; object: Record<string, unknown> }[] | null {
  try {
    const docs = parseManifests(input, "fuzz.yaml");
    validateManifests(docs);
    return docs.map((d) => ({ resource: d.resource, object: d.object as Record<string, unknown> }));
  } catch (e) {
    if (e instanceof ApiError && e.code >= 400 && e.code < 500) return null;
    throw e;
  }
}

describe("fuzz: manifests", () => {
  let t: TestApi;
  let before: Snapshot;
  beforeAll(async () => {
    t = await startTestApi();
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "fuzz" } });
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "guarded" } });
    await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "g-1", namespace: "guarded" }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } });
    before = await snapshot(t.api);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("fuzz manifests - 3000 random, generated and mutated inputs end in documents or a 4xx ApiError, each quickly", () => {
    const tally = { accepted: 0, refused: 0, slowest: 0 };
    fc.assert(
      fc.property(text, (input) => {
        const t0 = performance.now();
        const r = ingest(input);
        const ms = performance.now() - t0;
        tally.slowest = Math.max(tally.slowest, ms);
        if (r) tally.accepted++;
        else tally.refused++;
        expect(ms).toBeLessThan(2_000);
        // No prototype pollution from __proto__ keys anywhere in the input.
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).x).toBeUndefined();
      }),
      { numRuns: 3000, seed: 77 },
    );
    console.log("fuzz manifests", JSON.stringify({ ...tally, slowest: Math.round(tally.slowest) }));
    expect(tally.accepted).toBeGreaterThan(0);
  });

  it("fuzz manifests - deeply nested JSON and YAML, alone or after a valid document, are a 400 naming the file and the nesting", () => {
    const valid = "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n---\n";
    const wrong: string[] = [];
    for (const d of [...deepJson(), ...deepYaml()]) {
      for (const input of [d.text, d.text.startsWith("{") || d.text.startsWith("[") ? null : valid + d.text]) {
        if (input === null) continue;
        const t0 = performance.now();
        try {
          parseManifests(input, "deep.yaml");
          wrong.push(`${d.name}: accepted`);
        } catch (e) {
          if (!(e instanceof ApiError) || e.code !== 400 || !/^deep\.yaml.* nests deeper than 100 levels/.test(e.message)) wrong.push(`${d.name}: ${String(e).slice(0, 200)}`);
        }
        if (performance.now() - t0 > 500) wrong.push(`${d.name}: took ${Math.round(performance.now() - t0)} ms`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("fuzz manifests - what validates is created or refused by a real Api with a 4xx, and guarded objects stay intact", async () => {
    const samples = fc.sample(text, { numRuns: 1000, seed: 78 });
    const outcomes: Record<string, number> = {};
    for (const input of samples) {
      const docs = ingest(input);
      if (!docs) continue;
      for (const d of docs) {
        const meta = (d.object.metadata ?? {}) as { namespace?: unknown };
        // Keep the fuzzer out of the guarded namespace; everything else is fair game.
        if (meta.namespace === "guarded") continue;
        try {
          await t.api.create(d.resource as never, d.object, "fuzz");
          outcomes.created = (outcomes.created ?? 0) + 1;
        } catch (e) {
          expect(e).toBeInstanceOf(ApiError);
          expect((e as ApiError).code, (e as Error).message).toBeLessThan(500);
          outcomes[(e as ApiError).code] = (outcomes[(e as ApiError).code] ?? 0) + 1;
        }
      }
    }
    console.log("fuzz manifests → Api", JSON.stringify(outcomes));
    const after = await snapshot(t.api);
    expect(changed(before, after, (k) => k.includes("/guarded/") || k === "namespaces//guarded")).toEqual([]);
  });
});
