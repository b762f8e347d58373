/**
 * A local image registry: Debian's `docker-registry` (distribution 2.8) as a child process on
 * 127.0.0.1, its data and config in a directory of ours. `berth up --registry` runs one in the
 * cluster's home (as k3d's `--registry-create`); the tests run one per file.
 *
 * Docker treats registries on 127.0.0.0/8 as insecure, so plain HTTP works without any engine
 * configuration. With `auth`, the registry asks for htpasswd (bcrypt) basic auth on every call;
 * the file is written with `htpasswd -Bbn` (apache2-utils).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const REGISTRY_BINARY = "/usr/bin/docker-registry";

export interface RegistryOptions {
  /** Holds `config.yml`, `data/`, `htpasswd` and `registry.log`. Created when absent. */
  dir: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Require these credentials (htpasswd, bcrypt). */
  auth?: { username: string; password: string };
  binary?: string;
  /** How long to wait for the registry to answer (default 15 s). */
  readyTimeoutMs?: number;
}

export interface LocalRegistry {
  /** `127.0.0.1:<port>`: the prefix of image names in this registry. */
  readonly address: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** Stops the process (SIGTERM, SIGKILL after 5 s); the data stays in `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** The registry could not be started; the message says why (and what it printed). */
export class RegistryStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RegistryStartError";
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The registry's configuration file (distribution's YAML). */
export function registryConfig(o: { dataDir: string; port: number; htpasswd?: string }): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(o.dataDir)}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${o.port}`,
    ...(o.htpasswd ? ["auth:", "  htpasswd:", "    realm: berth-registry", `    path: ${JSON.stringify(o.htpasswd)}`] : []),
    "",
  ].join("\n");
}

function tail(file: string, n = 2000): string {
  try {
    const s = readFileSync(file, "utf8");
    return s.slice(-n).trim();
  } catch {
    return "";
  }
}

/** Starts a registry and resolves once it answers on `/v2/`. */
export async function startRegistry(opts: RegistryOptions): Promise<LocalRegistry> {
  const binary = opts.binary ?? REGISTRY_BINARY;
  if (!existsSync(binary)) {
    throw new RegistryStartError(`${binary} not found: install Debian's docker-registry package (npm run setup does)`);
  }
  mkdirSync(join(opts.dir, "data"), { recursive: true });
  let htpasswd: string | undefined;
  if (opts.auth) {
    htpasswd = join(opts.dir, "htpasswd");
    let line: string;
    try {
      line = execFileSync("htpasswd", ["-Bbn", opts.auth.username, opts.auth.password], { encoding: "utf8" });
    } catch (e) {
      throw new RegistryStartError(`htpasswd -Bbn failed (install apache2-utils): ${(e as Error).message}`, { cause: e });
    }
    writeFileSync(htpasswd, line.trim() + "\n", { mode: 0o600 });
  }
  const port = opts.port || await freePort();
  const config = join(opts.dir, "config.yml");
  writeFileSync(config, registryConfig({ dataDir: join(opts.dir, "data"), port, htpasswd }));
  const logFile = join(opts.dir, "registry.log");
  const fd = openSync(logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(binary, ["serve", config], { stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exited: { code: number | null; signal: string | null } | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once("error", (e) => {
      exited = { code: null, signal: String(e) };
      resolve();
    });
  });
  const address = `127.0.0.1:${port}`;
  // However this process ends, the registry does not outlive it.
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  void exit.then(() => process.off("exit", onExit));
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exit;
    clearTimeout(t);
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (exited) {
      throw new RegistryStartError(`docker-registry exited (${exited.code ?? exited.signal}) before answering on ${address}: ${tail(logFile) || "no output"}`);
    }
    try {
      const res = await fetch(`http://${address}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RegistryStartError(`docker-registry did not answer on ${address} within ${opts.readyTimeoutMs ?? 15_000} ms: ${tail(logFile) || "no output"}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address, port, dir: opts.dir, pid: child.pid!, stop };
}

/** What to tell a user about pushing to the registry (printed by `berth up --registry`). */
export function registryHowTo(address: string): string[] {
  return [
    `local registry at ${address} (plain HTTP on loopback: Docker needs no configuration)`,
    `  docker build -t ${address}/myapp:v1 .        (or: docker tag IMAGE ${address}/myapp:v1)`,
    `  docker push ${address}/myapp:v1`,
    `  then use image: ${address}/myapp:v1 in a pod`,
  ];
}

/**
 * The registry of a cluster home (`berth up --registry`): data in `<home>/registry/`, on the
 * port given, else the one it used last time (so pushed image names keep working across
 * restarts) when still free, else a free one. The port is remembered in `<home>/registry/port`.
 */
export async function startHomeRegistry(home: string, port = 0): Promise<LocalRegistry> {
  const dir = join(home, "registry");
  mkdirSync(dir, { recursive: true });
  const portFile = join(dir, "port");
  let chosen = port;
  if (!chosen && existsSync(portFile)) {
    const last = Number(readFileSync(portFile, "utf8").trim());
    if (Number.isInteger(last) && last > 0 && last < 65536 && (await isFree(last))) chosen = last;
  }
  const reg = await startRegistry({ dir, port: chosen });
  writeFileSync(portFile, `${reg.port}\n`);
  return reg;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
