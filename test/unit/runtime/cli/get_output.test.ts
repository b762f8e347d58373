/** `berth get`'s output options and target forms that kubectl users type. */
import { describe, expect, it } from "vitest";
import { customColumns, getCmd, sortByPath } from "../../../../runtime/cli/verbs.ts";
import { resolveTargets } from "../../../../runtime/cli/connect.ts";
import { suggest } from "../../../../runtime/cli/suggest.ts";
import type { ApiClient } from "../../../../model/client.ts";

const pod = (name: string, node: string, created: string) => ({
  apiVersion: "v1", kind: "Pod",
  metadata: { name, namespace: "default", creationTimestamp: created, uid: name },
  spec: { nodeName: node, containers: [{ name: "c", image: "berth/busybox" }] },
  status: { phase: "Running" },
});
const pods = [pod("b", "node-2", "2026-01-02T00:00:00Z"), pod("a", "node-1", "2026-01-03T00:00:00Z"), pod("c", "node-1", "2026-01-01T00:00:00Z")];

/** A client that lists the pods above and nothing else. */
const client = {
  async list(resource: string) {
    return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "7" }, items: resource === "pods" ? pods : [] };
  },
} as unknown as ApiClient;

async function get(args: string[], o: Parameters<typeof getCmd>[2] = {}): Promise<string> {
  let s = "";
  await getCmd(client, args, o, (x) => void (s += x));
  return s;
}

describe("berth get output", () => {
  it("-o jsonpath over the list, -o custom-columns, --sort-by", async () => {
    expect(await get(["pods"], { output: "jsonpath={.items[*].metadata.name}" })).toBe("b a c");
    expect(await get(["pods"], { output: "jsonpath={.items[*].metadata.name}", sortBy: ".metadata.creationTimestamp" })).toBe("c b a");
    expect(await get(["pods"], { output: "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,IP:.status.podIP", sortBy: "{.metadata.name}" })).toBe(
      "NAME   NODE     IP\na      node-1   <none>\nb      node-2   <none>\nc      node-1   <none>\n",
    );
    expect(sortByPath(pods, ".spec.nodeName").map((p) => p.metadata.name)).toEqual(["a", "c", "b"]);
    expect(() => customColumns("NAME")).toThrow(/NAME:JSONPATH/);
  });

  it("get all lists the kinds of kubectl's `all` category, names prefixed, empty kinds left out", async () => {
    expect(resolveTargets(["all"]).map((t) => t.resource)).toEqual(expect.arrayContaining(["pods", "services", "replicationcontrollers"]));
    const out = await get(["all"]);
    expect(out.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS/);
    expect(out).toContain("pod/a");
    expect(out).not.toMatch(/No resources found/);
  });

  it("a mistyped type or command gets kubectl's suggestion", () => {
    expect(() => resolveTargets(["pdos"])).toThrow(/Did you mean this\?\n\tpods/);
    expect(suggest("gte", ["get", "delete", "describe"])).toEqual(["get"]);
    expect(suggest("xyzzy", ["get", "delete"])).toEqual([]);
  });
});

describe("berth completion", () => {
  it("bash: the script bash itself accepts completes commands, flags and types", async () => {
    const { completionScript } = await import("../../../../runtime/cli/completion.ts");
    const { execFileSync } = await import("node:child_process");
    const script = completionScript("bash", {
      get: { summary: "", usage: "", flags: [{ name: "output", short: "o", type: "string", help: "" }], run: async () => {} },
      delete: { summary: "", usage: "", flags: [], run: async () => {} },
    }, ["pods", "services"]);
    const complete = (words: string[]) =>
      execFileSync("bash", ["-c", `${script}\nCOMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(" ")}); COMP_CWORD=${words.length - 1}; _berth; echo "\${COMPREPLY[*]}"`], { encoding: "utf8" }).trim();
    expect(complete(["berth", "ge"])).toBe("get");
    expect(complete(["berth", "get", "po"])).toBe("pods");
    expect(complete(["berth", "get", "--ou"])).toBe("--output");
    expect(() => completionScript("fish", {}, [])).toThrow(/bash or zsh/);
  });
});

describe("berth get -w", () => {
  it("rows that arrive later line up under the table printed first", async () => {
    // Narrower than the header: formatted alone, its READY would start at column 4, not under READY.
    const events = [{ type: "MODIFIED", object: { ...pod("b", "node-1", "2026-01-03T00:00:00Z"), status: { phase: "Pending" } } }];
    const watching = {
      async list() {
        return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "7" }, items: [pods[0]] };
      },
      async watch() {
        return { stop() {}, async *[Symbol.asyncIterator]() { yield* events; } };
      },
    } as unknown as ApiClient;
    let s = "";
    await getCmd(watching, ["pods"], { watch: true }, (x) => void (s += x));
    const lines = s.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    // READY starts in the same column on every line.
    const col = (l: string, word: string) => l.indexOf(word);
    expect(col(lines[1], "0/1")).toBe(col(lines[0], "READY"));
    expect(col(lines[2], "0/1")).toBe(col(lines[0], "READY"));
  });
});
