/**
 * The README's "Run your own app", followed as a newcomer would — its shell block is read from
 * README.md and run as written, so the README cannot drift from what works: `berth up
 * --registry`, `docker build` an image FROM the local berth/busybox, `docker push` it to the
 * cluster's registry, apply a pod and a Service, wait until Ready, see the pull in the events,
 * and reach the app through the Service by name. `berth down` stops the registry with the
 * cluster.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { berth, ROOT } from "../helpers/cli.ts";
import { type BerthUpCluster, startBerthUpCluster, stopBerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { DOCKER_CLI } from "../helpers/docker.ts";

let c: BerthUpCluster | undefined;
let registry = "";
const appDir = mkdtempSync(join(tmpdir(), "berth-own-app-"));

beforeAll(async () => {
  c = await startBerthUpCluster("own-app", ["--nodes", "1", "--registry"]);
  registry = /local registry at (127\.0\.0\.1:\d+)/.exec(c.up.output())?.[1] ?? "";
}, 180_000);

afterAll(async () => {
  try {
    await stopBerthUpCluster(c);
  } finally {
    spawnSync(DOCKER_CLI, ["rmi", "-f", `${registry}/hello:v1`], { encoding: "utf8" });
    rmSync(appDir, { recursive: true, force: true });
  }
}, 180_000);

/** The shell blocks of the README's "Run your own app" section, in order. */
function readmeBlocks(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const from = readme.indexOf("\n## Run your own app\n");
  if (from < 0) throw new Error('README.md has no "## Run your own app" section');
  const to = readme.indexOf("\n## ", from + 1);
  const section = readme.slice(from, to < 0 ? undefined : to);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe("run your own app", () => {
  test("the README's steps, run as written: docker build → docker push to berth up's registry → a pod pulls it → reached through a Service; down stops the registry", async () => {
    expect(registry, c!.up.output()).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(c!.up.output()).toContain(`docker tag IMAGE ${registry}/myapp:v1`);
    expect(c!.up.output()).toContain(`docker push ${registry}/myapp:v1`);

    const [up, steps] = readmeBlocks();
    // The first block is what beforeAll ran (berth up --registry); the second is run here as is,
    // from a folder that looks like the checkout (bin/, the default home .berth), with only the
    // address `up` printed filled in, as the README says.
    expect(up.trim()).toMatch(/^bin\/berth\.js up --registry(\s+#.*)?$/);
    expect(steps).toContain("REG=127.0.0.1:PORT\n");
    const script = steps.replace("REG=127.0.0.1:PORT\n", `REG=${registry}\n`);
    symlinkSync(join(ROOT, "bin"), join(appDir, "bin"));
    symlinkSync(c!.home, join(appDir, ".berth"));
    // Debian's docker client, as the rest of the suite uses (the engine speaks API 1.41).
    mkdirSync(join(appDir, "shim"));
    symlinkSync(DOCKER_CLI, join(appDir, "shim", "docker"));
    const { BERTH_HOME: _, ...env } = process.env;
    const t0 = Date.now();
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
      cwd: appDir,
      env: { ...env, HOME: appDir, PATH: `${join(appDir, "shim")}:${process.env.PATH}` },
      encoding: "utf8",
      timeout: 120_000,
    });
    console.log(`own app: the README's steps took ${Date.now() - t0} ms`);
    const svc = () => berth("node", c!.home, ["get", "svc,endpoints,pods", "-o", "wide"]).stdout;
    expect(r.status, `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- cluster\n${r.status === 0 ? "" : svc()}`).toBe(0);
    // The last command's answer, through the Service by name.
    expect(r.stdout.endsWith("hello from my own app\n")).toBe(true);
    // `berth events` showed the pull, as the README's comment says.
    expect(r.stdout).toContain(`Pulling image "${registry}/hello:v1"`);
    expect(r.stdout).toMatch(new RegExp(`Successfully pulled image "${registry.replace(/\./g, "\\.")}/hello:v1" in [\\d.]+m?s \\([\\d.]+m?s including waiting\\)\\. Image size: \\d+ bytes\\.`));

    const stopped = await stopBerthUpCluster(c);
    expect(stopped?.exitCode).toBe(0);
    await expect(fetch(`http://${registry}/v2/`)).rejects.toThrow();
  }, 150_000);
});
