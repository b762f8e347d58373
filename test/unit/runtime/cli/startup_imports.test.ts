/**
 * `berth get` must not load the cluster's machinery: the CLI's static import graph (what Node
 * loads before any command runs) holds only the NATS client and the CLI's own small modules.
 * Commands that need more (up, chaos, node, exec, top, …) import it when they run. A static
 * import of one of these packages from the CLI's entry made every `berth get` 2–3× slower.
 */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../../..", import.meta.url).pathname;
const HEAVY = ["dockerode", "xstate", "zod", "yaml", "prom-client", "dns2", "@peculiar/x509", "@nats-io/jetstream", "ws"];

describe("CLI start-up", () => {
  it("the entry's static imports reach none of the heavy packages", async () => {
    const r = await build({
      entryPoints: [`${ROOT}runtime/cli/main.ts`],
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      outdir: "/tmp/berth-startup-check",
      splitting: true,
      logLevel: "silent",
      loader: { ".node": "empty" },
    });
    const inputs = r.metafile!.inputs;
    const entry = Object.keys(inputs).find((k) => k.endsWith("runtime/cli/main.ts"))!;
    const seen = new Map<string, string | null>([[entry, null]]);
    const queue = [entry];
    while (queue.length) {
      const cur = queue.shift()!;
      for (const im of inputs[cur]?.imports ?? []) {
        if (im.kind !== "import-statement" && im.kind !== "require-call") continue; // dynamic imports load later
        if (!seen.has(im.path)) {
          seen.set(im.path, cur);
          queue.push(im.path);
        }
      }
    }
    const chainTo = (p: string) => {
      const out = [];
      for (let x: string | null = p; x; x = seen.get(x) ?? null) out.unshift(x.replace(/^.*node_modules\//, ""));
      return out.join(" -> ");
    };
    const heavy = [...seen.keys()].filter((k) => HEAVY.some((h) => k.includes(`node_modules/${h}/`)));
    const firstOfEach = HEAVY.map((h) => heavy.find((k) => k.includes(`node_modules/${h}/`))).filter((x): x is string => !!x);
    expect(firstOfEach.map(chainTo)).toEqual([]);
  }, 60_000);
});
