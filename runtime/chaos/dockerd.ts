/**
 * A Docker daemon the chaos harness starts for itself, so the "stop the Docker daemon" fault
 * never touches the machine's shared engine (other tests run beside). Everything is its own:
 * `--data-root`, `--exec-root` (and so its own supervised containerd), `--pidfile`, the socket
 * `unix:///tmp/berth-chaos-<id>.sock`; `--bridge=none --iptables=false` keep it off the host's
 * default bridge and firewall. Without live-restore, stopping it stops its containers, as a
 * daemon crash or restart does on a node configured that way.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import Docker from "dockerode";
import { LABELS } from "../containers/runtime.ts";

export class PrivateDockerdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PrivateDockerdError";
  }
}

export interface PrivateDockerdOptions {
  /** Short unique id: names the socket, data and exec roots. */
  id: string;
  binary?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class PrivateDockerd {
  private child?: ChildProcess;
  private stderr = "";
  readonly socketPath: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;

  private constructor(private readonly opts: PrivateDockerdOptions) {
    this.socketPath = `/tmp/berth-chaos-${opts.id}.sock`;
    this.dataRoot = `/var/lib/berth-chaos/${opts.id}`;
    // Short: containerd's socket lives under it and unix socket paths are limited to 108 bytes.
    this.execRoot = `/run/bc-${opts.id}`;
    this.pidfile = `${this.execRoot}.pid`;
  }

  /** Starts the daemon and waits until it answers. Needs root. */
  static async start(opts: PrivateDockerdOptions): Promise<PrivateDockerd> {
    if (process.getuid?.() !== 0) throw new PrivateDockerdError("a private dockerd needs root");
    const d = new PrivateDockerd(opts);
    await d.up();
    return d;
  }

  get running(): boolean {
    return !!this.child;
  }

  /** A dockerode client on this daemon. */
  client(): Docker {
    return new Docker({ socketPath: this.socketPath });
  }

  /** Starts the daemon process (again). Idempotent. */
  async up(timeoutMs = 60_000): Promise<void> {
    if (this.child) return;
    mkdirSync(this.dataRoot, { recursive: true });
    const args = [
      `--data-root=${this.dataRoot}`,
      `--exec-root=${this.execRoot}`,
      `--pidfile=${this.pidfile}`,
      `-H`, `unix://${this.socketPath}`,
      `--bridge=none`,
      `--iptables=false`,
      `--ip-masq=false`,
      `--storage-driver=overlay2`,
    ];
    const child = spawn(this.opts.binary ?? "dockerd", args, { stdio: ["ignore", "ignore", "pipe"] });
    this.stderr = "";
    child.stderr?.on("data", (b) => (this.stderr = (this.stderr + String(b)).slice(-4000)));
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => {
      process.removeListener("exit", killOnExit);
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
    const docker = this.client();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child) throw new PrivateDockerdError(`dockerd exited during start: ${this.stderr.split("\n").slice(-5).join("\n")}`);
      try {
        await docker.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new PrivateDockerdError(`dockerd did not answer on ${this.socketPath} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Stops the daemon (SIGTERM; SIGKILL after 20 s). Its containers stop with it. Idempotent. */
  async down(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(t);
    this.child = undefined;
  }

  /** Copies an image from another engine (`docker save | docker load`; never a registry). */
  async importImageFrom(source: Docker, image: string): Promise<void> {
    const docker = this.client();
    try {
      await docker.getImage(image).inspect();
      return;
    } catch {
      // Absent: load it below.
    }
    const tar = await source.getImage(image).get();
    const progress = await docker.loadImage(tar);
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(progress, (err: Error | null, out: { error?: string }[]) => {
        const bad = out?.find((o) => o.error);
        if (err || bad) reject(new PrivateDockerdError(`loading ${image} failed: ${err?.message ?? bad?.error}`));
        else resolve();
      });
    });
  }

  /** Removes everything Berth made on it, stops it, and deletes its roots. Idempotent. */
  async stop(): Promise<void> {
    if (this.child) {
      const docker = this.client();
      const cs = await docker.listContainers({ all: true, filters: { label: [LABELS.node] } }).catch(() => []);
      await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      const nets = await docker.listNetworks({ filters: { label: [LABELS.network] } }).catch(() => []);
      await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove().catch(() => {})));
      await this.down();
    }
    rmSync(this.dataRoot, { recursive: true, force: true });
    rmSync(this.execRoot, { recursive: true, force: true });
    rmSync(this.pidfile, { force: true });
    rmSync(this.socketPath, { force: true });
  }
}
