import { describe, expect, it } from "vitest";
import { compileTemplate, JsonPathError, selectPath } from "../../../../runtime/cli/jsonpath.ts";

const list = {
  kind: "List",
  items: [
    { metadata: { name: "a", labels: { app: "web", "app.kubernetes.io/name": "x" } }, status: { phase: "Running", podIP: "10.0.0.1" }, spec: { containers: [{ name: "c1" }, { name: "c2" }] } },
    { metadata: { name: "b", labels: { app: "db" } }, status: { phase: "Pending" }, spec: { containers: [{ name: "d" }] } },
  ],
};

describe("kubectl JSONPath templates", () => {
  it("fields, wildcards, indexes, slices and space-joined results", () => {
    expect(compileTemplate("{.items[*].metadata.name}")(list)).toBe("a b");
    expect(compileTemplate("{.items[0].spec.containers[*].name}")(list)).toBe("c1 c2");
    expect(compileTemplate("{.items[-1].metadata.name}")(list)).toBe("b");
    expect(compileTemplate("{.items[0:1].metadata.name}")(list)).toBe("a");
    expect(compileTemplate("{..containers[*].name}")(list)).toBe("c1 c2 d");
    expect(compileTemplate("{.items[0].metadata.labels['app.kubernetes.io/name']}")(list)).toBe("x");
    expect(compileTemplate("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}")(list)).toBe("x");
  });

  it("range/end, literals and text around actions", () => {
    expect(compileTemplate('{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}')(list)).toBe("a\tRunning\nb\tPending\n");
    expect(compileTemplate("names: {.items[*].metadata.name}!")(list)).toBe("names: a b!");
  });

  it("filters by comparison and by presence", () => {
    expect(compileTemplate('{.items[?(@.status.phase=="Running")].metadata.name}')(list)).toBe("a");
    expect(compileTemplate("{.items[?(@.status.podIP)].metadata.name}")(list)).toBe("a");
    expect(compileTemplate("{.items[?(@.metadata.name!='a')].metadata.name}")(list)).toBe("b");
  });

  it("objects print as JSON; a missing field is an error naming it, but not inside a range", () => {
    expect(compileTemplate("{.items[1].status}")(list)).toBe('{"phase":"Pending"}');
    expect(() => compileTemplate("{.items[1].status.podIP}")(list)).toThrow(JsonPathError);
    expect(() => compileTemplate("{.items[1].status.podIP}")(list)).toThrow(/podIP is not found/);
    expect(compileTemplate("{range .items[*]}[{.status.podIP}]{end}")(list)).toBe("[10.0.0.1][]");
  });

  it("malformed templates are refused with what is wrong", () => {
    expect(() => compileTemplate("{.items[*]")).toThrow(/unclosed action/);
    expect(() => compileTemplate("{range .items[*]}{.a}")).toThrow(/unclosed range/);
    expect(() => compileTemplate("{end}")).toThrow(/not in range/);
    expect(() => compileTemplate("{.items[?(@.a ~ 1)]}")).toThrow(/unrecognized/);
  });

  it("selectPath takes .a.b or {.a.b}, for custom-columns and --sort-by", () => {
    expect(selectPath(".metadata.name", list.items[0])).toEqual(["a"]);
    expect(selectPath("{.metadata.name}", list.items[1])).toEqual(["b"]);
    expect(selectPath(".status.podIP", list.items[1])).toEqual([]);
  });
});
