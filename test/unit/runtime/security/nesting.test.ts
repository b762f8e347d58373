import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { stringify } from "yaml";
import { checkJsonNesting, checkValueNesting, checkYamlNesting, MAX_NESTING_DEPTH, NestingTooDeepError } from "../../../../runtime/security/nesting.ts";
import { parseBody as parseHttpBody } from "../../../../runtime/http/body.ts";
import { parseBody as parseNatsBody } from "../../../../runtime/security/api_request.ts";
import { parseManifests } from "../../../../runtime/api/manifest.ts";
import { BadRequestError } from "../../../../model/errors.ts";

const DEEP = 20_000;
const deepJson = "[".repeat(DEEP) + "]".repeat(DEEP);
const deepJsonObject = '{"a":'.repeat(DEEP) + "1" + "}".repeat(DEEP);
const deepYamlFlow = "a: " + "[".repeat(DEEP) + "]".repeat(DEEP);
const deepYamlBlock = Array.from({ length: 300 }, (_, i) => " ".repeat(i) + "a:").join("\n") + " 1\n";
const deepYamlDashes = "- ".repeat(DEEP) + "x\n";

/** Depth of a value: scalars 0, each array/object one level. */
function depth(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depth));
}

function nested(d: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < d; i++) v = i % 2 ? [v] : { k: v };
  return v;
}

describe("nesting - scans before parsing", () => {
  it("nesting - 20,000-deep JSON and YAML are refused at once, saying where", () => {
    const t0 = Date.now();
    for (const text of [deepJson, deepJsonObject]) expect(() => checkJsonNesting(text, "body")).toThrow(/body nests deeper than 100 levels \(at line 1, column \d+\)/);
    for (const text of [deepYamlFlow, deepYamlBlock, deepYamlDashes, deepJson]) expect(() => checkYamlNesting(text, "body")).toThrow(NestingTooDeepError);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it("nesting - JSON: exactly the depth, brackets inside strings do not count", () => {
    expect(() => checkJsonNesting(JSON.stringify(nested(MAX_NESTING_DEPTH)))).not.toThrow();
    expect(() => checkJsonNesting(JSON.stringify(nested(MAX_NESTING_DEPTH + 1)))).toThrow(NestingTooDeepError);
    expect(() => checkJsonNesting(JSON.stringify({ s: "[".repeat(500) + '\\"{{{' }))).not.toThrow();
  });

  it("nesting - YAML: brackets in quotes, comments and block scalars do not count", () => {
    const text = [
      `a: '[[[[[[ it''s {{{{'`,
      `b: "[[[[ \\" {{{{"`,
      `c: don't [x] # [[[[[[[[[[`,
      "d: |",
      ...Array.from({ length: 200 }, (_, i) => " ".repeat(i + 2) + "[[[[ text"),
      "e: >-",
      "  {{{{",
      "f: 1",
    ].join("\n");
    expect(() => checkYamlNesting(text, "doc", 5)).not.toThrow();
  });

  // Strings and keys full of YAML's own punctuation, so that the writer quotes them, folds them
  // into block scalars, or leaves brackets inside plain scalars.
  const text = fc.string({ unit: fc.constantFrom("a", " ", "[", "]", "{", "}", ":", "|", ">", "-", "#", "'", '"', "\n", "&", "*", "!", ",", "?"), maxLength: 8 });
  const key = fc.constantFrom("a", "b-c", "d e", "[k", "- x", "k: v", "|", "#c", '"q');
  const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: "small", withCrossShrink: true }, fc.constant(1), text, fc.array(tie("node"), { maxLength: 3 }), fc.dictionary(key, tie("node"), { maxKeys: 3 })),
  })).node;

  it("nesting - never undercounts: anything deeper than the bound is refused, as JSON and as YAML", () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 6 }), (v, max) => {
        const d = depth(v);
        const json = JSON.stringify(v);
        if (d > max) {
          expect(() => checkJsonNesting(json, "x", max)).toThrow(NestingTooDeepError);
          expect(() => checkYamlNesting(json, "x", max)).toThrow(NestingTooDeepError);
          expect(() => checkYamlNesting(stringify(v), "x", max)).toThrow(NestingTooDeepError);
          expect(() => checkValueNesting(v, "x", max)).toThrow(NestingTooDeepError);
        } else {
          expect(() => checkJsonNesting(json, "x", max)).not.toThrow();
          expect(() => checkValueNesting(v, "x", max)).not.toThrow();
        }
      }),
      { seed: 1313, numRuns: 400 },
    );
  });

  it("nesting - overcounts a YAML object by at most one level", () => {
    fc.assert(
      fc.property(value.filter((v) => typeof v === "object" && v !== null), (v) => {
        expect(() => checkYamlNesting(stringify(v), "x", depth(v) + 1)).not.toThrow();
      }),
      { seed: 1314, numRuns: 400 },
    );
  });

  it("nesting - a pod manifest written by hand passes well within the bound", () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i", env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }] } };
    expect(() => checkYamlNesting(stringify(pod), "pod", 12)).not.toThrow();
    expect(() => checkJsonNesting(JSON.stringify(pod), "pod", 12)).not.toThrow();
  });
});

describe("nesting - every input edge refuses deep input with a 400 before parsing", () => {
  it("nesting - REST bodies, JSON and YAML", () => {
    for (const [text, format] of [[deepJson, "json"], [deepJsonObject, "json"], [deepYamlFlow, "yaml"], [deepYamlBlock, "yaml"], [deepYamlDashes, "yaml"]] as const) {
      let err: unknown;
      try {
        parseHttpBody(Buffer.from(text), format);
      } catch (e) {
        err = e;
      }
      expect(err, format).toBeInstanceOf(BadRequestError);
      expect((err as Error).message).toMatch(/^the request body nests deeper than 100 levels/);
    }
  });

  it("nesting - YAML aliases that nest a deep anchor again are measured after parsing", () => {
    // Each anchor holds the previous one 60 levels down: 10 aliases build 600 levels from 60 lines.
    const lines = ["a0: &a0 " + "[".repeat(60) + "]".repeat(60)];
    for (let i = 1; i <= 10; i++) lines.push(`a${i}: &a${i} ` + "[".repeat(60) + `*a${i - 1}` + "]".repeat(60));
    const text = lines.join("\n") + "\n";
    expect(() => parseHttpBody(Buffer.from(text), "yaml")).toThrow(/the request body nests deeper than 100 levels/);
    expect(() => parseManifests(text, "deep.yaml")).toThrow(/deep\.yaml: document 1 \(line 1\): the document nests deeper than 100 levels/);
  });

  it("nesting - NATS API request bodies", () => {
    const body = new TextEncoder().encode(`{"object":${deepJsonObject}}`);
    expect(() => parseNatsBody(body)).toThrow(/request body nests deeper than 100 levels \(at line 1, column \d+\)/);
    expect(() => parseNatsBody(body)).toThrow(BadRequestError);
  });

  it("nesting - manifests for berth apply, JSON and YAML, name the file and line", () => {
    expect(() => parseManifests(deepJson, "deep.json")).toThrow(/^deep\.json nests deeper than 100 levels \(at line 1, column 101\)$/);
    expect(() => parseManifests("kind: Pod\n---\n" + deepYamlBlock, "deep.yaml")).toThrow(/^deep\.yaml nests deeper than 100 levels \(at line 1\d\d, column \d+\)$/);
    expect(() => parseManifests(deepYamlFlow, "flow.yaml")).toThrow(/^flow\.yaml nests deeper than 100 levels/);
  });
});
