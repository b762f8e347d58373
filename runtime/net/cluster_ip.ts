/**
 * Making ClusterIPs reachable on this machine.
 *
 * As root ("assigned" mode) each ClusterIP is added to `lo` as a /32 with the label `lo:berth`
 * (`ip addr add 10.96.0.5/32 dev lo label lo:berth`), as kube-proxy's IPVS mode binds service
 * addresses to a dummy device. Verified here (REFERENCE.md): reachable from the host and from
 * containers on the berth bridge, whose traffic to it is delivered locally. Only addresses this
 * process added are removed again (on release and on `releaseAll`); an address that was already
 * present is used but left alone.
 *
 * Unprivileged, or with assignment turned off ("loopback" mode), nothing is added: a ClusterIP
 * a.b.c.d is served on the loopback address 127.b.c.d instead (Linux routes all of 127/8 to lo),
 * which only the host can reach. DNS answers that address, so names still work from the host;
 * pods cannot reach services in this mode. This is logged once.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export type ClusterIpMode = "assigned" | "loopback";

/** `ip addr` failed for a reason other than the address already being there / already gone. */
export class ClusterIpAssignError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClusterIpAssignError";
  }
}

/** The host-only loopback stand-in for a ClusterIP: 10.96.3.4 → 127.96.3.4 (127/8 is kept). */
export function loopbackAddressFor(clusterIP: string): string {
  const parts = clusterIP.split(".");
  if (parts.length !== 4) throw new ClusterIpAssignError(`not an IPv4 address: ${clusterIP}`);
  return parts[0] === "127" ? clusterIP : ["127", parts[1], parts[2], parts[3]].join(".");
}

export interface ClusterIpAssignerOptions {
  /** Assign addresses on the device (needs root). Default: true when running as root. */
  assign?: boolean;
  device?: string;
  /** Runs `ip` with these arguments (injected in tests). */
  runIp?: (args: string[]) => Promise<void>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

async function defaultRunIp(args: string[]): Promise<void> {
  await execFileP("ip", args, { timeout: 10_000 });
}

export class ClusterIpAssigner {
  readonly mode: ClusterIpMode;
  readonly device: string;
  private readonly runIp: (args: string[]) => Promise<void>;
  private readonly log: NonNullable<ClusterIpAssignerOptions["log"]>;
  /** Addresses this process added (and so must remove). */
  private readonly added = new Set<string>();
  /** Reference counts: a ClusterIP is acquired once per user (e.g. per proxy). */
  private readonly refs = new Map<string, number>();

  constructor(opts: ClusterIpAssignerOptions = {}) {
    const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
    this.mode = (opts.assign ?? isRoot) ? "assigned" : "loopback";
    this.device = opts.device ?? "lo";
    this.runIp = opts.runIp ?? defaultRunIp;
    this.log = opts.log ?? (() => {});
    if (this.mode === "loopback") {
      this.log("ClusterIPs are served on 127.x loopback stand-ins, reachable from the host only", {
        reason: opts.assign === false ? "assignment disabled" : "not running as root",
      });
    }
  }

  /** The address to listen on and to answer in DNS for `clusterIP`. */
  addressFor(clusterIP: string): string {
    return this.mode === "assigned" ? clusterIP : loopbackAddressFor(clusterIP);
  }

  /** Makes `clusterIP` reachable (idempotent per caller pairing with `release`); returns `addressFor`. */
  async acquire(clusterIP: string): Promise<string> {
    const n = this.refs.get(clusterIP) ?? 0;
    this.refs.set(clusterIP, n + 1);
    if (this.mode === "loopback" || n > 0) return this.addressFor(clusterIP);
    try {
      await this.runIp(["addr", "add", `${clusterIP}/32`, "dev", this.device, "label", `${this.device}:berth`]);
      this.added.add(clusterIP);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message);
      if (!/File exists|already assigned/i.test(msg)) {
        this.refs.set(clusterIP, n);
        throw new ClusterIpAssignError(`cannot assign ${clusterIP} on ${this.device}: ${msg.trim()}`, { cause: e });
      }
      // Already present (added by someone else): usable, but not ours to remove.
    }
    return clusterIP;
  }

  /** Drops one use of `clusterIP`; the last one removes an address this process added. */
  async release(clusterIP: string): Promise<void> {
    const n = this.refs.get(clusterIP) ?? 0;
    if (n > 1) {
      this.refs.set(clusterIP, n - 1);
      return;
    }
    this.refs.delete(clusterIP);
    if (!this.added.delete(clusterIP)) return;
    try {
      await this.runIp(["addr", "del", `${clusterIP}/32`, "dev", this.device]);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message);
      // Already gone (removed by hand, or the device was reset): the goal is reached.
      if (!/Cannot assign requested address|not found/i.test(msg)) {
        this.log("failed to remove ClusterIP", { ip: clusterIP, device: this.device, error: msg.trim() });
      }
    }
  }

  /** Removes every address this process added (shutdown); safe to call twice. */
  async releaseAll(): Promise<void> {
    const ips = [...this.added];
    this.refs.clear();
    for (const ip of ips) {
      this.refs.set(ip, 1);
      await this.release(ip);
    }
  }

  /** Addresses currently added by this process. */
  get owned(): string[] {
    return [...this.added].sort();
  }
}
