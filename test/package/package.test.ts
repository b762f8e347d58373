/**
 * The package as people install it: `npm pack`, the tarball installed into an empty project, and
 * then, with only what the tarball and its dependencies bring (no tsx, no sources on a loader):
 *   - every documented import works under plain Node, and the `berth` binary starts — run through
 *     node as before, and as a shell runs it from node_modules/.bin, `npx berth` and a global
 *     install, where its launcher (bin/berth.cjs's `#!/bin/sh` lines) starts Node;
 *   - every snippet of the README and docs that imports "berth" type-checks against the package's
 *     .d.ts and runs (unless marked typecheck-only, with the reason, in the doc).
 * Documented API and package can no longer drift apart.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { transformSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docSnippets } from "../helpers/doc_snippets.ts";
import { ROOT } from "../helpers/cli.ts";

const snippets = docSnippets(ROOT);
let project: string;
let tarball: string;

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: "utf8", timeout, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BERTH_HOME: join(cwd, ".berth") } });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${x.stdout ?? ""}\n${x.stderr ?? x.message}`);
  }
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "berth-package-"));
  // prepack builds dist/ when a source is newer than it.
  const packed = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", project], ROOT)) as { filename: string }[];
  tarball = join(project, packed[0].filename);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "berth-user", version: "1.0.0", private: true, type: "module" }, null, 2));
  // Dependencies come from the npm cache when it has them (the registry otherwise).
  sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], project);
}, 300_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("installs without tsx and carries the compiled code, its types and the sources for Deno", () => {
    const pkg = join(project, "node_modules/berth");
    for (const f of ["dist/mod.js", "dist/mod.d.ts", "dist/runtime/cli/main.js", "dist/ui/dist/app.js", "bin/berth.js", "mod.ts"]) expect(existsSync(join(pkg, f)), f).toBe(true);
    expect(existsSync(join(project, "node_modules/tsx"))).toBe(false);
    expect(readdirSync(pkg)).not.toContain("test");
  });

  it("the berth binary runs from the compiled code", () => {
    const help = sh(process.execPath, [join(project, "node_modules/.bin/berth"), "--help"], project);
    expect(help).toMatch(/^berth — /);
    expect(sh(process.execPath, [join(project, "node_modules/.bin/berth"), "version"], project)).toMatch(/^berth \d+\.\d+\.\d+/);
    // `get` and `describe` run from their one-file CommonJS bundle (bin/dist.js runCjsBundle).
    expect(existsSync(join(project, "node_modules/berth/dist/cli/main.cjs"))).toBe(true);
    expect(sh(process.execPath, [join(project, "node_modules/.bin/berth"), "get", "--help"], project)).toMatch(/^list objects as a table/);
    expect(() => sh(process.execPath, [join(project, "node_modules/.bin/berth"), "get", "pods"], project)).toThrow(/no Berth cluster is running for home/);
  });

  // The launcher drops NODE_EXTRA_CA_CERTS for `get` and `describe` only. The variable names a file
  // that does not exist, so each Node process that reads it warns "Ignoring extra certs from …"
  // once: `berth version` shows one warning more than `berth get` (npx, itself a Node program,
  // adds its own to both).
  const missingCas = () => join(project, "no-such-ca-bundle.pem");
  function direct(file: string, args: string[]) {
    const r = spawnSync(file, args, { cwd: project, encoding: "utf8", timeout: 120_000, env: { ...process.env, BERTH_HOME: join(project, ".berth"), NODE_EXTRA_CA_CERTS: missingCas() } });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, casReads: r.stderr.split(`Ignoring extra certs from \`${missingCas()}\``).length - 1 };
  }
  function expectLauncher(file: string, args: string[] = []) {
    const version = direct(file, [...args, "version"]);
    expect(version.stdout, version.stderr).toMatch(/^berth \d+\.\d+\.\d+/);
    expect(version.casReads, "other commands keep NODE_EXTRA_CA_CERTS").toBeGreaterThan(0);
    const get = direct(file, [...args, "get", "pods"]);
    expect(get.status).toBe(1);
    expect(get.stderr).toContain("berth get: no Berth cluster is running for home");
    expect(get.casReads, "get drops NODE_EXTRA_CA_CERTS").toBe(version.casReads - 1);
    const describe = direct(file, [...args, "describe", "pod", "x"]);
    expect(describe.stderr).toContain("berth describe: no Berth cluster is running for home");
    expect(describe.casReads, "describe drops NODE_EXTRA_CA_CERTS").toBe(version.casReads - 1);
  }

  it("node_modules/.bin/berth, run as a shell runs it, goes through the launcher", () => {
    expectLauncher(join(project, "node_modules/.bin/berth"));
  });

  it("`npx berth` goes through the launcher", () => {
    expectLauncher("npx", ["--no-install", "berth"]);
  });

  it("a global install (`npm install -g`) puts a working `berth` on its PATH", () => {
    const prefix = join(project, "global");
    sh("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], project);
    expectLauncher(join(prefix, "bin/berth"));
  }, 300_000);

  it("every documented name imports under plain Node", () => {
    const names = ["Cluster", "startClusterComponents", "chaos", "applyOne", "parseManifests", "NatsApiClient", "readClusterInfo", "ApiError"];
    const out = sh(process.execPath, ["--input-type=module", "-e", `import * as b from "berth"; console.log(JSON.stringify(${JSON.stringify(names)}.filter((n) => b[n] === undefined)))`], project);
    expect(JSON.parse(out)).toEqual([]);
  });

  it("finds the snippets of the README and docs", () => {
    expect(snippets.map((s) => s.where)).toEqual(expect.arrayContaining([expect.stringMatching(/^README\.md:/), expect.stringMatching(/^docs\/chaos\.md:/)]));
  });

  it("every snippet type-checks against the package's declarations", () => {
    snippets.forEach((s, i) => writeFileSync(join(project, `snippet-${i}.ts`), `// ${s.where}\n${s.code}\nexport {};\n`));
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
      compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")] },
      include: ["snippet-*.ts"],
    }));
    sh(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", project], project);
  });

  // Snippets marked typecheck-only (with their reason) are checked above and not run here.
  for (const s of snippets.filter((x) => x.run)) {
    it(`runs ${s.where}`, () => {
      const js = transformSync(s.code, { loader: "ts", format: "esm" }).code;
      const file = join(project, `run-${s.where.replace(/[^a-z0-9]+/gi, "-")}.mjs`);
      writeFileSync(file, js);
      sh(process.execPath, [file], project, 120_000);
    }, 150_000);
  }
});
