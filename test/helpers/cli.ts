/**
 * Runs the real `berth` CLI as a child process (under Node through bin/berth.js, or under Deno
 * with `deno run`), for end-to-end tests.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(new URL("../..", import.meta.url).pathname);
export type Runner = "node" | "deno";

function command(runner: Runner, args: string[]): [string, string[]] {
  return runner === "node"
    ? [process.execPath, [join(ROOT, "bin/berth.js"), ...args]]
    : [join(ROOT, "node_modules/.bin/deno"), ["run", "-A", "--quiet", join(ROOT, "runtime/cli/main.ts"), ...args]];
}

export function tempHome(prefix = "berth-e2e-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs one CLI command to completion. */
export function berth(runner: Runner, home: string, args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const [cmd, argv] = command(runner, args);
  const r = spawnSync(cmd, argv, { cwd: ROOT, env: { ...process.env, BERTH_HOME: home }, input, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs one CLI command to completion without blocking this process: for a CLI talking to an API
 * served from this same process (startTestApi), which `berth` (spawnSync) would starve.
 */
export function berthAsync(runner: Runner, home: string, args: string[], input?: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, argv] = command(runner, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, BERTH_HOME: home }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin!.end(input ?? "");
  });
}

export interface RunningUp {
  proc: ChildProcess;
  output(): string;
  /** Sends SIGTERM and waits for the process to exit; returns its exit code. */
  stop(): Promise<number | null>;
}

/** Starts `berth up` and resolves once it has printed its `ready` line. */
export async function berthUp(runner: Runner, home: string, args: string[] = [], timeoutMs = 60_000): Promise<RunningUp> {
  const [cmd, argv] = command(runner, ["up", "--home", home, ...args]);
  const proc = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, BERTH_HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += String(d)));
  proc.stderr!.on("data", (d) => (out += String(d)));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth up did not print "ready" within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      if (/cluster ready/.test(out)) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    proc.stdout!.on("data", check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`berth up exited with ${code} before ready:\n${out}`));
    });
  });
  return {
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      return await exited;
    },
  };
}

/** PIDs of nats-server processes whose command line mentions `needle`. */
export function natsServersFor(needle: string): number[] {
  const r = spawnSync("pgrep", ["-f", `nats-server.*${needle}`], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean).map(Number);
}
