import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../../model/errors.ts";
import {
  formatFieldSelector,
  formatLabelSelector,
  mapMatches,
  matchesFields,
  matchesLabels,
  NOTHING,
  parseFieldSelector,
  parseLabelSelector,
  SelectorParseError,
  selectorFromMap,
} from "../../../model/selector.ts";

const labels = { app: "web", tier: "frontend", "example.com/role": "api" };

describe("label selector - parsing and matching", () => {
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ["", labels, true],
    ["", undefined, true],
    ["app=web", labels, true],
    ["app==web", labels, true],
    ["app=db", labels, false],
    ["app!=db", labels, true],
    ["app!=web", labels, false],
    ["missing!=x", labels, true],
    ["missing!=x", undefined, true],
    ["app in (web,db)", labels, true],
    ["app in (db)", labels, false],
    ["app notin (db,cache)", labels, true],
    ["app notin (web)", labels, false],
    ["missing notin (a)", labels, true],
    ["missing in (a)", labels, false],
    ["app", labels, true],
    ["missing", labels, false],
    ["!missing", labels, true],
    ["!app", labels, false],
    ["example.com/role=api", labels, true],
    ["app=web,tier=frontend", labels, true],
    ["app=web,tier=backend", labels, false],
    ["  app = web ,  tier in ( frontend , x ) , ! canary ", labels, true],
    ["app=", { app: "" }, true],
    ["app=", labels, false],
    ["app in (web,)", { app: "" }, true],
    ["app in ()", { app: "" }, true],
    ["app notin ()", { app: "" }, false],
  ];
  for (const [sel, l, want] of cases) {
    it(`"${sel}" ${want ? "selects" : "does not select"} ${JSON.stringify(l)}`, () => {
      expect(matchesLabels(parseLabelSelector(sel), l)).toBe(want);
    });
  }

  it("normalises == to =, and sorts and de-duplicates set values", () => {
    expect(parseLabelSelector("a==b,c in (z,y,z)")).toEqual({
      requirements: [
        { key: "a", operator: "=", values: ["b"] },
        { key: "c", operator: "in", values: ["y", "z"] },
      ],
      matchNothing: false,
    });
  });

  it("treats the words in and notin as plain values and keys", () => {
    expect(matchesLabels(parseLabelSelector("mode=in"), { mode: "in" })).toBe(true);
    expect(matchesLabels(parseLabelSelector("in in (notin)"), { in: "notin" })).toBe(true);
  });

  const bad: [string, RegExp][] = [
    ["app=web,", /position 8: expected a label key or "!", found end of input/],
    [",app", /position 0: expected a label key/],
    ["app in web", /position 7: expected "\(" after "in"/],
    ["app in (a", /position 9: expected "," or "\)"/],
    ["app in (a b)", /position 10: expected "," or "\)"/],
    ["app = = web", /position 6: expected a label value after "="/],
    ["app web", /position 4: expected one of "=", "==", "!=", "in", "notin"/],
    ["!", /position 1: expected a label key after "!"/],
    ["bad key!x=1", /expected one of/],
    ["-bad=1", /invalid label key "-bad"/],
    ["app=bad!value", /expected "," or end of input/],
    ["app=" + "v".repeat(64), /invalid label value .*no more than 63/],
    ["Example.COM/x=1", /invalid label key .*prefix part/],
    ["a=b)", /position 3: expected "," or end of input, found "\)"/],
  ];
  for (const [sel, msg] of bad) {
    it(`rejects "${sel}" naming the position and what was expected`, () => {
      let err: unknown;
      try {
        parseLabelSelector(sel);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SelectorParseError);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).code).toBe(400);
      expect((err as Error).message).toMatch(msg);
    });
  }
});

describe("label selector - equality maps (RC and Service selectors)", () => {
  it("selects objects carrying every pair", () => {
    expect(mapMatches({ app: "web" }, labels)).toBe(true);
    expect(mapMatches({ app: "web", tier: "backend" }, labels)).toBe(false);
    expect(mapMatches({ app: "web" }, undefined)).toBe(false);
  });
  it("an empty or absent map selects nothing, and says so in its type", () => {
    expect(selectorFromMap({})).toEqual({ requirements: [], matchNothing: true });
    expect(selectorFromMap(undefined).matchNothing).toBe(true);
    expect(mapMatches({}, {})).toBe(false);
    expect(mapMatches({}, labels)).toBe(false);
  });
  it("formats a map, and the nothing-selector to a string that still selects nothing", () => {
    expect(formatLabelSelector({ tier: "a", app: "b" })).toBe("app=b,tier=a");
    const s = formatLabelSelector(NOTHING);
    expect(matchesLabels(parseLabelSelector(s), {})).toBe(false);
    expect(matchesLabels(parseLabelSelector(s), { "berth.io/nothing": "" })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Property-based: a model of requirements, rendered to text in random valid syntax by the test
// itself, must parse to a selector that agrees with a plain evaluation of the model.

type Model = { key: string; op: "=" | "!=" | "in" | "notin" | "exists" | "!"; values: string[] };

const keyArb = fc.constantFrom("app", "tier", "env", "example.com/role", "a.b_c-d", "in", "X9");
const valueArb = fc.constantFrom("", "web", "db", "v1.2", "A_b-c", "notin", "x");
const labelsArb = fc.dictionary(keyArb, valueArb, { maxKeys: 5 });
const reqArb: fc.Arbitrary<Model> = fc.oneof(
  fc.record({ key: keyArb, op: fc.constantFrom("=" as const, "!=" as const), values: fc.tuple(valueArb).map((v) => [...v]) }),
  fc.record({ key: keyArb, op: fc.constantFrom("in" as const, "notin" as const), values: fc.array(valueArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ key: keyArb, op: fc.constantFrom("exists" as const, "!" as const), values: fc.constant([] as string[]) }),
);
const ws = fc.constantFrom("", " ", "  ", "\t");

function render(models: Model[], pad: string[], eq: boolean[]): string {
  let i = 0;
  const p = () => pad[i++ % pad.length];
  return models
    .map((m, j) => {
      switch (m.op) {
        case "=":
          return `${p()}${m.key}${p()}${eq[j % eq.length] ? "==" : "="}${p()}${m.values[0]}${p()}`;
        case "!=":
          return `${p()}${m.key}${p()}!=${p()}${m.values[0]}${p()}`;
        case "in":
        case "notin":
          // A leading empty value cannot be written as "(" followed by ","; put it last instead.
          return `${p()}${m.key} ${m.op}${p()}(${p()}${[...m.values].sort().reverse().join(`${p()},${p()}`)}${p()})${p()}`;
        case "exists":
          return `${p()}${m.key}${p()}`;
        case "!":
          return `${p()}!${p()}${m.key}${p()}`;
      }
    })
    .join(",");
}

function reference(models: Model[], l: Record<string, string>): boolean {
  return models.every((m) => {
    const has = Object.keys(l).includes(m.key);
    if (m.op === "exists") return has;
    if (m.op === "!") return !has;
    if (m.op === "=") return has && l[m.key] === m.values[0];
    if (m.op === "!=") return !(has && l[m.key] === m.values[0]);
    if (m.op === "in") return has && m.values.some((v) => v === l[m.key]);
    return !(has && m.values.some((v) => v === l[m.key]));
  });
}

const selectorArb = fc.record({
  models: fc.array(reqArb, { minLength: 1, maxLength: 5 }),
  pad: fc.array(ws, { minLength: 1, maxLength: 7 }),
  eq: fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
});

describe("label selector - properties", () => {
  it("matching agrees with a reference model over random selectors and label sets", () => {
    fc.assert(
      fc.property(selectorArb, labelsArb, ({ models, pad, eq }, l) => {
        const text = render(models, pad, eq);
        expect(matchesLabels(parseLabelSelector(text), l)).toBe(reference(models, l));
      }),
      { numRuns: 2000 },
    );
  });

  it("format then parse gives back the same selector, and formatting is stable", () => {
    fc.assert(
      fc.property(selectorArb, ({ models, pad, eq }) => {
        const sel = parseLabelSelector(render(models, pad, eq));
        const text = formatLabelSelector(sel);
        expect(parseLabelSelector(text)).toEqual(sel);
        expect(formatLabelSelector(parseLabelSelector(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it("!= and notin select every object that lacks the key; =, in and exists select none of them", () => {
    fc.assert(
      fc.property(keyArb, fc.array(valueArb, { minLength: 1, maxLength: 3 }), labelsArb, (key, values, l0) => {
        const l = { ...l0 };
        delete l[key];
        const set = values.join(",");
        expect(matchesLabels(parseLabelSelector(`${key}!=${values[0]}`), l)).toBe(true);
        expect(matchesLabels(parseLabelSelector(`${key} notin (${set})`), l)).toBe(true);
        expect(matchesLabels(parseLabelSelector(`!${key}`), l)).toBe(true);
        expect(matchesLabels(parseLabelSelector(`${key}=${values[0]}`), l)).toBe(false);
        expect(matchesLabels(parseLabelSelector(`${key} in (${set})`), l)).toBe(false);
        expect(matchesLabels(parseLabelSelector(key), l)).toBe(false);
      }),
    );
  });

  it("selectorFromMap({}) never matches, nor does its formatted form", () => {
    const formatted = parseLabelSelector(formatLabelSelector(selectorFromMap({})));
    fc.assert(
      fc.property(fc.dictionary(fc.oneof(keyArb, fc.constant("berth.io/nothing")), valueArb), (l) => {
        expect(matchesLabels(selectorFromMap({}), l)).toBe(false);
        expect(mapMatches({}, l)).toBe(false);
        expect(matchesLabels(formatted, l)).toBe(false);
      }),
    );
  });

  it("a non-empty map selects exactly the label sets that contain it", () => {
    fc.assert(
      fc.property(fc.dictionary(keyArb, valueArb, { minKeys: 1, maxKeys: 3 }), labelsArb, (map, l) => {
        const contains = Object.entries(map).every(([k, v]) => Object.keys(l).includes(k) && l[k] === v);
        expect(mapMatches(map, l)).toBe(contains);
        expect(matchesLabels(parseLabelSelector(formatLabelSelector(map)), l)).toBe(contains);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("field selector", () => {
  const pod = {
    metadata: { name: "web-1", namespace: "default" },
    spec: { nodeName: "node-1", restartPolicy: "Always" },
    status: { phase: "Running" },
  };
  it("matches =, == and != on the supported fields", () => {
    expect(matchesFields(parseFieldSelector("metadata.name=web-1"), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector("metadata.name==web-1,spec.nodeName=node-1"), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector("status.phase!=Running"), pod)).toBe(false);
    expect(matchesFields(parseFieldSelector("spec.restartPolicy=Always,metadata.namespace=default"), pod)).toBe(true);
    expect(matchesFields(parseFieldSelector(""), pod)).toBe(true);
  });
  it("treats an absent field as the empty string (spec.nodeName= selects unscheduled pods)", () => {
    expect(matchesFields(parseFieldSelector("spec.nodeName="), { metadata: { name: "x" }, spec: {} })).toBe(true);
    expect(matchesFields(parseFieldSelector("spec.nodeName!="), pod)).toBe(true);
  });
  it("selects events by involvedObject fields", () => {
    const ev = { metadata: { name: "e" }, involvedObject: { kind: "Pod", name: "web-1", namespace: "default" }, source: { component: "kubelet" } };
    const sel = parseFieldSelector("involvedObject.kind=Pod,involvedObject.name=web-1,source=kubelet", "events");
    expect(matchesFields(sel, ev)).toBe(true);
    expect(matchesFields(parseFieldSelector("involvedObject.name=other"), ev)).toBe(false);
  });
  it("rejects an unsupported field with Kubernetes' message", () => {
    expect(() => parseFieldSelector("spec.containers=x")).toThrow(/field label not supported: spec.containers/);
    expect(() => parseFieldSelector("spec.nodeName=x", "services")).toThrow(/field label not supported: spec.nodeName/);
    expect(() => parseFieldSelector("involvedObject.name=x", "pods")).toThrow(BadRequestError);
  });
  it("rejects malformed terms and unescaped separators in values", () => {
    expect(() => parseFieldSelector("metadata.name")).toThrow(/is not field=value/);
    expect(() => parseFieldSelector("metadata.name=a=b")).toThrow(/unescaped "="/);
    expect(() => parseFieldSelector("metadata.name=a\\qb")).toThrow(/invalid escape/);
  });
  it("unescapes values and formats them back escaped", () => {
    const sel = parseFieldSelector("metadata.name=a\\,b\\=c\\\\d");
    expect(sel.requirements[0].value).toBe("a,b=c\\d");
    expect(parseFieldSelector(formatFieldSelector(sel))).toEqual(sel);
  });
});
