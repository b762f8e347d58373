/**
 * The launcher in bin/berth.cjs (its `#!/bin/sh` lines): executed as the shell runs the `berth`
 * command, it starts Node without NODE_EXTRA_CA_CERTS for `get` and `describe` (Node 20 parses
 * that file at every start; those two commands make no TLS connection) and with it for every
 * other command, and for `get`/`describe` given `--nats`. Seen from outside: the variable names a
 * file that does not exist, and Node warns "Ignoring extra certs from `…`" whenever it reads it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { ROOT } from "../helpers/cli.ts";

let dir: string;
let missing: string;
const BIN = join(ROOT, "bin/berth.cjs");

/** Runs `file args` directly (its `#!` line), with NODE_EXTRA_CA_CERTS naming a missing file. */
function run(file: string, args: string[], cwd = ROOT) {
  const r = spawnSync(file, args, { cwd, encoding: "utf8", timeout: 60_000, env: { ...process.env, BERTH_HOME: join(dir, "home"), NODE_EXTRA_CA_CERTS: missing } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, readCas: r.stderr.includes(`Ignoring extra certs from \`${missing}\``) };
}

beforeAll(() => {
  const { distIsFresh } = createRequire(import.meta.url)("../../bin/fast.cjs") as { distIsFresh(): boolean };
  expect(distIsFresh(), "dist/ is missing or older than the sources: run `npm run build` first").toBe(true);
  dir = mkdtempSync(join(tmpdir(), "berth-launcher-"));
  missing = join(dir, "no-such-ca-bundle.pem");
  mkdirSync(join(dir, "home"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("bin/berth.cjs launcher", () => {
  it("drops NODE_EXTRA_CA_CERTS for get and describe, which still run", () => {
    for (const args of [["get", "pods"], ["describe", "pod", "x"]]) {
      const r = run(BIN, args);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`berth ${args[0]}: no Berth cluster is running for home`);
      expect(r.readCas, r.stderr).toBe(false);
    }
    const help = run(BIN, ["get", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^list objects as a table/);
    expect(help.readCas).toBe(false);
  });

  it("keeps it for every other command", () => {
    const version = run(BIN, ["version"]);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^berth \d+\.\d+\.\d+/);
    expect(version.readCas, version.stderr).toBe(true);
    for (const args of [["apply", "--help"], ["up", "--help"], ["--help"], []]) expect(run(BIN, args).readCas, args.join(" ")).toBe(true);
    // A verb that merely contains "get" is another command.
    expect(run(BIN, ["gets"]).readCas).toBe(true);
  });

  it("keeps it for get and describe given --nats (a server of the user's choosing)", () => {
    for (const args of [["get", "pods", "--nats", "nats://127.0.0.1:1"], ["describe", "pod", "x", "--nats=nats://127.0.0.1:1"]]) {
      const r = run(BIN, args);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("cannot reach the cluster's NATS at nats://127.0.0.1:1");
      expect(r.readCas, args.join(" ")).toBe(true);
    }
  });

  it("runs through a symlink elsewhere, as npm puts it on the PATH, and passes arguments unchanged", () => {
    const link = join(dir, "bin-dir", "berth");
    mkdirSync(join(dir, "bin-dir"));
    symlinkSync(BIN, link);
    const spaced = join(dir, "a home  with spaces");
    mkdirSync(spaced);
    const r = run(link, ["get", "pods", "--home", spaced], dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no Berth cluster is running for home ${spaced} `);
    expect(r.readCas).toBe(false);
    expect(run(link, ["version"], dir).stdout).toMatch(/^berth \d+\.\d+\.\d+/);
  });

  it("`node bin/berth.cjs` skips the launcher: the same program, with the environment as given", () => {
    const r = spawnSync(process.execPath, [BIN, "get", "pods"], { encoding: "utf8", env: { ...process.env, BERTH_HOME: join(dir, "home"), NODE_EXTRA_CA_CERTS: missing } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("berth get: no Berth cluster is running for home");
    expect(r.stderr).toContain(`Ignoring extra certs from \`${missing}\``);
  });
});
