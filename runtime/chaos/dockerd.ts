/**
 * A Docker daemon of one's own, beside the machine's shared engine: the chaos harness's
 * "stop the Docker daemon" fault, and tests that stop and restart "the engine"
 * (test/integration/node_dockerd_restart.test.ts), use it so the shared engine that other tests
 * run on beside them is never touched. Everything is its own:
 * `--data-root`, `--exec-root` (and so its own supervised containerd), `--pidfile`, the socket
 * `unix:///tmp/berth-chaos-<id>.sock`; `--iptables=false` keeps it off the host's firewall, and
 * its default network is a Linux bridge of its own (`bc<id>`, 10.218.x.1/24). NOT
 * `--bridge=none`: dockerd 20.10 started that way deletes the host's `docker0`, breaking the
 * shared engine's default network for everyone else. Without live-restore, stopping it stops its containers, as a
 * daemon crash or restart does on a node configured that way.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import Docker from "dockerode";
import { LABELS } from "../../model/container_runtime.ts";

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
  /** Its own default bridge (at most 15 characters) and that bridge's address. */
  readonly bridge: string;
  readonly bridgeAddress: string;

  private constructor(private readonly opts: PrivateDockerdOptions) {
    this.socketPath = `/tmp/berth-chaos-${opts.id}.sock`;
    this.dataRoot = `/var/lib/berth-chaos/${opts.id}`;
    // Short: containerd's socket lives under it and unix socket paths are limited to 108 bytes.
    this.execRoot = `/run/bc-${opts.id}`;
    this.pidfile = `${this.execRoot}.pid`;
    this.bridge = `bc${opts.id}`.replace(/[^A-Za-z0-9]/g, "").slice(0, 15);
    let h = 0;
    for (const ch of opts.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    this.bridgeAddress = `10.218.${h % 250}.1/24`;
  }

  /** Creates the daemon's own bridge (idempotent). */
  private ensureBridge(): void {
    try {
      execFileSync("ip", ["link", "show", this.bridge], { stdio: "ignore" });
      return;
    } catch {
      // absent: create it
    }
    execFileSync("ip", ["link", "add", this.bridge, "type", "bridge"]);
    execFileSync("ip", ["addr", "add", this.bridgeAddress, "dev", this.bridge]);
    execFileSync("ip", ["link", "set", this.bridge, "up"]);
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
    this.ensureBridge();
    const args = [
      `--data-root=${this.dataRoot}`,
      `--exec-root=${this.execRoot}`,
      `--pidfile=${this.pidfile}`,
      `-H`, `unix://${this.socketPath}`,
      `--bridge=${this.bridge}`,
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
    try {
      execFileSync("ip", ["link", "del", this.bridge], { stdio: "ignore" });
    } catch {
      // never created, or already gone
    }
  }
}
