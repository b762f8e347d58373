/**
 * The Node entry of the package (bin/mod.js, what `import ... from "berth"` loads) exports every
 * name mod.ts does: the README's `import { startClusterComponents } from "berth"` and
 * docs/chaos.md's `import { chaos } from "berth"` failed with a SyntaxError when it named six.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

describe("package entry", () => {
  it("bin/mod.js, loaded by plain node, exports exactly the runtime names of mod.ts", () => {
    const names = (spec: string, loader: string[]) =>
      JSON.parse(execFileSync(process.execPath, [...loader, "--input-type=module", "-e", `const m = await import(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== "default").sort()))`], { cwd: ROOT, encoding: "utf8" })) as string[];
    const entry = names(resolve(ROOT, "bin/mod.js"), []);
    const source = names(resolve(ROOT, "mod.ts"), ["--import", "tsx"]);
    expect(entry).toEqual(source);
    expect(entry).toEqual(expect.arrayContaining(["Cluster", "startClusterComponents", "chaos"]));
  });
});
