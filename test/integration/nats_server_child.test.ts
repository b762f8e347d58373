/**
 * The private nats-server as a child: it dies with the process that started it however that
 * process dies (SIGKILL included, where no exit handler runs), and what it writes — the
 * JetStream store holding every object — is private to the user (files 0600, directories 0700).
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitFor } from "../helpers/nats.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const homes: string[] = [];
const started: number[] = [];

/** The pid of the nats-server started with `confPath`, or undefined. */
function natsServerOf(confPath: string): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0");
      if (cmd.some((a) => a.endsWith("nats-server")) && cmd.includes(confPath)) return Number(d);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** Running and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/** Every path under `dir` whose mode is not 0600 (files) or 0700 (directories). */
function notPrivate(dir: string): string[] {
  const bad: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) bad.push(`${p} ${mode.toString(8)}`);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else if (mode !== 0o600) bad.push(`${p} ${mode.toString(8)}`);
  };
  walk(dir);
  return bad;
}

afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL"); // only if a test failed before killing it
    } catch {
      // gone, as it should be
    }
  }
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe("nats-server child", () => {
  it("nats-server child - dies with a SIGKILLed cluster process, and its store is private (files 0600, dirs 0700)", async () => {
    const home = mkdtempSync(join(tmpdir(), "berth-child-"));
    homes.push(home);
    const confPath = join(home, "nats", "nats-server.conf");
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", join(ROOT, "test/helpers/cluster_child.ts"), home], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.push(child.pid!);
    let out = "";
    child.stdout!.on("data", (d) => (out += String(d)));
    child.stderr!.on("data", (d) => (out += String(d)));
    await waitFor(() => out.includes("ready") || child.exitCode !== null, "the cluster process to start", 30_000);
    expect(out).toContain("ready");
    const nats = natsServerOf(confPath);
    expect(nats, "nats-server running").toBeDefined();
    started.push(nats!);
    expect(parentOf(nats!)).toBe(child.pid);

    // JetStream wrote the object: everything under the nats directory is private.
    expect(readdirSync(join(home, "nats", "jetstream")).length).toBeGreaterThan(0);
    expect(notPrivate(join(home, "nats"))).toEqual([]);

    child.kill("SIGKILL");
    await waitFor(() => !alive(nats!), `nats-server ${nats} to die with its parent`, 10_000);
  });
});
