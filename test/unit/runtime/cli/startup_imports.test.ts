/**
 * `berth get` must not load the cluster's machinery: the CLI's static import graph (what Node
 * loads before any command runs) holds only the NATS client and the CLI's own small modules.
 * Commands that need more (up, chaos, node, exec, top, …) import it when they run. A static
 * import of one of these packages from the CLI's entry made every `berth get` 2–3× slower.
 */
import { build, type BuildOptions } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { cjsBundleOptions } from "../../../../scripts/cjs_bundle.mjs";

const ROOT = new URL("../../../..", import.meta.url).pathname;
const HEAVY = ["dockerode", "xstate", "zod", "yaml", "prom-client", "dns2", "@peculiar/x509", "@nats-io/jetstream", "ws", "jose"];

describe("CLI start-up", () => {
  // main.ts: the whole CLI; read_main.ts: `get` and `describe` alone (bin/berth.js runs them from
  // its CommonJS bundle).
  it.each(["main.ts", "read_main.ts"])("the static imports of runtime/cli/%s reach none of the heavy packages", async (file) => {
    const r = await build({
      entryPoints: [`${ROOT}runtime/cli/${file}`],
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
    const entry = Object.keys(inputs).find((k) => k.endsWith(`runtime/cli/${file}`))!;
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

  it("the one-file CommonJS bundle that `get` and `describe` run requires none of them when it loads", async () => {
    // As scripts/build.mjs bundles it, with JetStream and KV left outside too so that loading
    // them shows up here. Only its start-up runs: without BERTH_CLI_ENTRY no command runs.
    const opts = cjsBundleOptions(ROOT, `${ROOT}runtime/cli/read_main.ts`, "/tmp/berth-startup-check/main.cjs") as BuildOptions & { external: string[] };
    const r = await build({ ...opts, external: [...opts.external, "@nats-io/jetstream", "@nats-io/kv"], write: false, metafile: true });
    const text = r.outputFiles![0].text;
    // A dynamic import() fails in a script restored from V8's code cache (bin/dist.js); the
    // bundle has none, and none of the cluster's machinery.
    expect(text).not.toMatch(/\bimport\(/);
    const ours = Object.keys(r.metafile!.inputs).filter((k) => !k.includes("node_modules") && !k.startsWith("lazy-builtin:"));
    expect(ours).toContain("runtime/cli/verbs.ts");
    expect(ours.filter((k) => /runtime\/(cli\/(up|chaos|multi|dashboard|observe|extra|stream_verbs)|kubelet|controllers|http)\b/.test(k))).toEqual([]);
    // The NATS client inside is the small one (runtime/nats/lite.ts): none of the full client's
    // 310 KB is read and restored at every `get`.
    expect(ours).toContain("runtime/nats/lite.ts");
    expect(Object.keys(r.metafile!.inputs).filter((k) => k.includes("node_modules/@nats-io/"))).toEqual([]);
    const file = `${ROOT}dist/cli/main.cjs`;
    const realRequire = createRequire(file);
    const required: string[] = [];
    const recording = (id: string) => {
      required.push(id);
      return realRequire(id);
    };
    const entry = process.env.BERTH_CLI_ENTRY;
    delete process.env.BERTH_CLI_ENTRY;
    try {
      const module = { exports: {} as Record<string, unknown> };
      vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) { ${text}\n})`, { filename: file })(module.exports, recording, module, file, `${ROOT}dist/cli`);
      expect(typeof module.exports.main).toBe("function");
    } finally {
      if (entry !== undefined) process.env.BERTH_CLI_ENTRY = entry;
    }
    const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((id) => !builtin.has(id))).toEqual([]);
  }, 60_000);

  it("the berth binary (bin/berth.cjs) runs `get` from the bundle without Node's ES module loader, and falls back to the sources when dist/ is stale", () => {
    const { distIsFresh } = createRequire(import.meta.url)("../../../../bin/fast.cjs") as { distIsFresh(): boolean };
    expect(distIsFresh(), "dist/ is missing or older than the sources: run `npm run build` first").toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "berth-startup-"));
    try {
      // Preloaded: at exit, says whether Node loaded the part of its ES module loader that runs ES
      // modules (vm.Script alone loads the rest).
      const recorder = join(dir, "esm.cjs");
      writeFileSync(recorder, 'process.on("exit", () => require("node:fs").writeSync(2, "ESM " + process.moduleLoadList.filter((m) => m.includes("esm/module_job")).length + "\\n"));\n');
      const run = (env: Record<string, string>) =>
        spawnSync(process.execPath, ["-r", recorder, `${ROOT}bin/berth.cjs`, "get", "pods", "--nats", "nats://127.0.0.1:1"], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
      const fast = run({});
      expect(fast.status).toBe(1);
      expect(fast.stderr).toContain("cannot reach the cluster's NATS at nats://127.0.0.1:1: connection refused");
      expect(fast.stderr).toContain("ESM 0");
      // From the sources (as when dist/ is stale): the ES module CLI through tsx, same answer.
      const slow = run({ BERTH_FROM_SOURCES: "1" });
      expect(slow.status).toBe(1);
      expect(slow.stderr).toContain("cannot reach the cluster's NATS at nats://127.0.0.1:1: connection refused");
      expect(slow.stderr).toMatch(/ESM [1-9]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
