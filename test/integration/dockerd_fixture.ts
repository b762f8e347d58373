/**
 * A Docker daemon of the test's own, beside the machine's shared one, so a test can stop and
 * restart "the engine" without disturbing the other tests running at the same time.
 *
 * Everything is private: `--data-root` (under /tmp), `--exec-root` (short, under /run: containerd's
 * socket lives in it and unix socket paths are limited to 108 bytes), `--pidfile`, the API socket
 * `unix:///tmp/berth-dockerd-<id>.sock`; `--iptables=false --ip-masq=false` keep it off the host's
 * firewall. Its default bridge is a Linux bridge of its own (`bd<id>`, made here with `ip link`),
 * NOT `--bridge=none`: dockerd 20.10 started with `--bridge=none` *deletes the host's docker0*
 * (`removeDefaultBridgeInterface`), which breaks the shared engine's default network. Berth creates
 * its own bridge network on this daemon too, with a subnet distinct from the shared engine's
 * 10.213.0.0/16. Storage driver overlay2 (the data root is on ext4 here). No live-restore: stopping the daemon stops its containers, as a daemon crash
 * or restart does on a node configured that way.
 *
 * The base image comes from the shared engine (`docker save | docker load`, never a registry).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import Docker from "dockerode";
import { INFRA_IMAGE } from "../../runtime/containers/docker.ts";
import { DOCKER_CLI } from "../helpers/docker.ts";

/** The private daemon could not be started (the message carries dockerd's last stderr lines). */
export class PrivateDockerdError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PrivateDockerdError";
  }
}

export class PrivateDockerd {
  readonly id: string;
  readonly socketPath: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly pidfile: string;
  /** The Linux bridge its default network uses (at most 15 characters). */
  readonly bridge: string;
  /** The address of that bridge, CIDR. */
  readonly bridgeAddress: string;
  private child?: ChildProcess;
  private stderr = "";
  private readonly killOnExit = () => this.child?.kill("SIGKILL");

  /** `bridgeAddress`: an address/prefix for the default bridge no other network on the host uses. */
  constructor(opts: { bridgeAddress: string; id?: string }) {
    const id = opts.id ?? `${process.pid % 100000}${Math.floor(Math.random() * 1e4)}`;
    this.id = id;
    this.bridge = `bd${id}`.slice(0, 15);
    this.bridgeAddress = opts.bridgeAddress;
    this.socketPath = `/tmp/berth-dockerd-${id}.sock`;
    this.dataRoot = `/tmp/berth-dockerd-${id}.data`;
    this.execRoot = `/run/bd-${id}`;
    this.pidfile = `/run/bd-${id}.pid`;
  }

  /** The daemon's process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  client(): Docker {
    return new Docker({ socketPath: this.socketPath });
  }

  /** Starts dockerd (again, with the same roots) and waits until it answers. Needs root. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.child) return;
    if (process.getuid?.() !== 0) throw new PrivateDockerdError("a private dockerd needs root");
    mkdirSync(this.dataRoot, { recursive: true });
    this.ensureBridge();
    const child = spawn("dockerd", [
      `--data-root=${this.dataRoot}`,
      `--exec-root=${this.execRoot}`,
      `--pidfile=${this.pidfile}`,
      "-H", `unix://${this.socketPath}`,
      `--bridge=${this.bridge}`,
      "--iptables=false",
      "--ip-masq=false",
      "--storage-driver=overlay2",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    this.stderr = "";
    child.stderr?.on("data", (b) => (this.stderr = (this.stderr + String(b)).slice(-4000)));
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    // A worker that dies must not leave a daemon behind.
    process.once("exit", this.killOnExit);
    this.child = child;
    const docker = this.client();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child) throw new PrivateDockerdError(`dockerd exited while starting: ${this.stderr.split("\n").slice(-6).join("\n")}`);
      try {
        await docker.ping();
        return;
      } catch {
        if (Date.now() > deadline) throw new PrivateDockerdError(`dockerd did not answer on ${this.socketPath} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private ensureBridge(): void {
    try {
      execFileSync("ip", ["link", "show", this.bridge], { stdio: "ignore" });
      return;
    } catch {
      // Absent: create it below.
    }
    execFileSync("ip", ["link", "add", this.bridge, "type", "bridge"]);
    execFileSync("ip", ["addr", "add", this.bridgeAddress, "dev", this.bridge]);
    execFileSync("ip", ["link", "set", this.bridge, "up"]);
  }

  /** SIGTERM to the daemon; resolves once it has exited (its containers are stopped by then). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(t);
    process.removeListener("exit", this.killOnExit);
    this.child = undefined;
  }

  /** Copies the base image from the shared engine: `docker save | docker -H <this> load`. */
  importBaseImage(image = INFRA_IMAGE): void {
    const tar = execFileSync(DOCKER_CLI, ["save", image], { maxBuffer: 512 * 1024 * 1024 });
    execFileSync(DOCKER_CLI, ["-H", `unix://${this.socketPath}`, "load"], { input: tar, stdio: ["pipe", "ignore", "pipe"] });
  }

  /**
   * Removes every container and network on it, stops it, and deletes its roots. Safe to call
   * when start never happened or failed half-way.
   */
  async destroy(): Promise<void> {
    if (this.child) {
      const docker = this.client();
      const cs = await docker.listContainers({ all: true }).catch(() => []);
      await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      const nets = await docker.listNetworks().catch(() => []);
      const builtin = new Set(["none", "host", "bridge"]);
      await Promise.all(nets.filter((n) => !builtin.has(n.Name)).map((n) => docker.getNetwork(n.Id).remove().catch(() => {})));
      await this.stop();
    }
    try {
      execFileSync("ip", ["link", "del", this.bridge], { stdio: "ignore" });
    } catch {
      // Never created (or already gone).
    }
    rmSync(this.dataRoot, { recursive: true, force: true });
    rmSync(this.execRoot, { recursive: true, force: true });
    rmSync(this.pidfile, { force: true });
    rmSync(this.socketPath, { force: true });
  }
}
