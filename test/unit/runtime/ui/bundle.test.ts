import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../../helpers/cli.ts";

describe("ui bundle", () => {
  it("the committed ui/dist is what ui/src builds to", () => {
    const r = spawnSync(process.execPath, ["scripts/build-ui.mjs", "--check"], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("the bundle fetches nothing from outside its origin", async () => {
    const { readFileSync } = await import("node:fs");
    const js = readFileSync(`${ROOT}/ui/dist/app.js`, "utf8");
    const css = readFileSync(`${ROOT}/ui/dist/app.css`, "utf8");
    // No absolute URLs to fetch from (comments with licence links are allowed: they are text).
    expect(js.replace(/\/\*[\s\S]*?\*\//g, "")).not.toMatch(/(fetch|EventSource|import)\(\s*["'`]https?:/);
    expect(css).not.toMatch(/url\(\s*["']?https?:/);
    expect(css).not.toMatch(/@import/);
  });
});
