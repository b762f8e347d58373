/**
 * Starts a private nats-server (Debian package `nats-server`) with JetStream on disk, as a child
 * process listening on a free loopback port. Used by `berth up` and by the tests.
 *
 * The port is chosen by nats-server itself (`port: -1`) and read back from its ports file, so
 * there is no race between picking a port and binding it.
 *
 * The child never outlives this process: on Linux it is started through util-linux
 * `setpriv --pdeathsig KILL`, so the kernel kills it when this process dies however it dies
 * (SIGKILL, OOM, a crash) — an `exit` handler runs only on an orderly exit. It runs with umask
 * 077: the JetStream store holds every object, Secrets included, so its files are 0600 and its
 * directories 0700, like the credentials beside them.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class NatsServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NatsServerError";
  }
}

export interface NatsServerOptions {
  /** Directory for the config, ports file and JetStream store. Default: a fresh temp dir (removed on stop). */
  dir?: string;
  /** Address to listen on. Default 127.0.0.1 (see docs on `--listen` for the risks of anything else). */
  host?: string;
  /** Port; default -1 (nats-server picks a free one). */
  port?: number;
  /** Extra nats-server configuration appended verbatim (authorization, cluster blocks). */
  extraConfig?: string;
  /**
   * An `authorization { ... }` block (runtime/nats/auth.ts `makeNatsAuth().serverConfig`).
   * Absent: no authentication, which is only acceptable on loopback (see docs/security.md).
   */
  authorization?: string;
  /**
   * Largest message the server accepts, in nats-server units (default "4MB"). Objects are
   * limited to 1.5 MiB by the API; a bigger publish is refused by the client library before it
   * is sent, and the API answers 413 for anything between.
   */
  maxPayload?: string;
  /** Path of the nats-server binary. Default: `nats-server` from PATH. */
  binary?: string;
  /** Milliseconds to wait for the server to start. */
  startTimeoutMs?: number;
}

export interface NatsServerHandle {
  url: string;
  port: number;
  dir: string;
  pid: number;
  process: ChildProcess;
  /**
   * Rewrites the configuration with a new authorization block (e.g. after adding a node) and
   * asks the running server to reload it (SIGHUP); existing connections stay up.
   */
  reload(opts: { authorization?: string }): Promise<void>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/** Starts nats-server and resolves once it accepts connections. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "berth-nats-"));
  mkdirSync(join(dir, "jetstream"), { recursive: true });
  const portsDir = join(dir, "ports");
  rmSync(portsDir, { recursive: true, force: true });
  mkdirSync(portsDir, { recursive: true });
  const render = (authorization: string | undefined) =>
    [
      `host: ${JSON.stringify(opts.host ?? "127.0.0.1")}`,
      `port: ${opts.port ?? -1}`,
      `ports_file_dir: ${JSON.stringify(portsDir)}`,
      `max_payload: ${opts.maxPayload ?? "4MB"}`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, "jetstream"))} }`,
      authorization ?? "",
      opts.extraConfig ?? "",
    ].join("\n") + "\n";
  const confPath = join(dir, "nats-server.conf");
  // The configuration may hold passwords: private to this user, even if the file existed.
  writeFileSync(confPath, render(opts.authorization), { mode: 0o600 });
  chmodSync(confPath, 0o600);

  const logPath = join(dir, "nats-server.log");
  // Files an earlier server (or an older Berth, which left them 0640) created in this directory.
  makePrivate(dir);
  const [command, args] = childCommand(opts.binary ?? "nats-server", ["-c", confPath, "-l", logPath]);
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  // An orderly exit without stop() (process.exit in a CLI) also takes the child down; other
  // deaths are covered by the parent-death signal where setpriv exists.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr += String(d)));
  const spawnError = new Promise<never>((_, reject) => {
    child.once("error", (e) =>
      reject(new NatsServerError(`cannot start nats-server (${e.message}); install the Debian package nats-server`, { cause: e }))
    );
    child.once("exit", (code, signal) =>
      reject(new NatsServerError(`nats-server exited during start (code ${code}, signal ${signal}): ${stderr.trim() || readTail(logPath)}`))
    );
  });
  spawnError.catch(() => {}); // observed below through Promise.race

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  let url: string | undefined;
  // A start that fails must not leave its exit hook behind: callers retry (the chaos harness
  // restarts NATS on a port that may still be held), and every failed attempt used to add one
  // more `exit` listener to the process, until Node warned (MaxListenersExceededWarning).
  try {
    while (!url) {
      const ready = await Promise.race([sleep(25).then(() => true), spawnError]);
      if (!ready) break;
      const file = existsSync(portsDir) ? readdirSync(portsDir).find((f) => f.endsWith(".ports")) : undefined;
      if (file) {
        try {
          const ports = JSON.parse(readFileSync(join(portsDir, file), "utf8")) as { nats?: string[] };
          url = ports.nats?.[0];
        } catch {
          // The file is being written; read it again on the next turn.
        }
      }
      if (!url && Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new NatsServerError(`nats-server did not report its port within ${opts.startTimeoutMs ?? 15_000} ms: ${readTail(logPath)}`);
      }
    }
  } catch (e) {
    process.removeListener("exit", killOnExit);
    throw e;
  }
  const port = Number(new URL(url!).port);
  let stopped: Promise<void> | undefined;
  return {
    url: url!,
    port,
    dir,
    pid: child.pid!,
    process: child,
    async reload(r) {
      writeFileSync(confPath, render(r.authorization), { mode: 0o600 });
      if (child.exitCode !== null || child.signalCode !== null) throw new NatsServerError("nats-server is not running");
      child.kill("SIGHUP");
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((r) => child.once("exit", () => r()));
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(t);
        }
        process.removeListener("exit", killOnExit);
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/**
 * The command that runs nats-server: `setpriv --pdeathsig KILL -- sh -c 'umask 077 && exec …'`.
 * Both steps `exec`, so the child's pid is nats-server's own (signals, reload and the stale-server
 * search in cluster.ts see nats-server). The death signal is tied to the thread that spawned the
 * child: Node spawns on its main thread, which lives as long as the process. Without setpriv
 * (not Linux, or util-linux older than 2.33) only the umask wrapper is used.
 */
export function childCommand(binary: string, args: string[]): [string, string[]] {
  const umasked = ["-c", 'umask 077 && exec "$0" "$@"', binary, ...args];
  return hasPdeathsig() ? ["setpriv", ["--pdeathsig", "KILL", "--", "sh", ...umasked]] : ["sh", umasked];
}

let pdeathsig: boolean | undefined;
/** Whether `setpriv --pdeathsig` works here (checked once by running it). */
export function hasPdeathsig(): boolean {
  if (pdeathsig === undefined) {
    if (process.platform !== "linux") return (pdeathsig = false);
    const r = spawnSync("setpriv", ["--pdeathsig", "KILL", "--", "true"], { stdio: "ignore", timeout: 5_000 });
    pdeathsig = r.status === 0;
  }
  return pdeathsig;
}

/** Makes everything under `dir` private to this user: files 0600, directories 0700. */
function makePrivate(dir: string): void {
  const walk = (p: string) => {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return; // removed meanwhile
    }
    if (st.isSymbolicLink()) return;
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) chmodSync(p, 0o700);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else if ((st.mode & 0o777) !== 0o600) {
      chmodSync(p, 0o600);
    }
  };
  walk(dir);
}

function readTail(path: string): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-5).join("\n");
  } catch {
    return "(no log)";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
