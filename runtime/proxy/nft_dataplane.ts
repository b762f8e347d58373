/**
 * The nftables proxy mode's dataplane: the same inputs as LocalDataplane (Services + Endpoints
 * from followServices), but instead of a TCP proxy per port it keeps Berth's own nftables table
 * (`table ip berth`) in step, so ClusterIP and NodePort traffic is DNAT'ed by the kernel. The
 * rules come from the pure generator in actors/nft_rules.ts; each sync is ONE `nft -f -`
 * transaction (atomic: the kernel has the old rules or the new ones, never a mix), coalesced
 * across the updates that arrive while a sync runs. After a sync, conntrack entries of UDP flows
 * to endpoints that were removed are deleted (`conntrack -D`), so no datagram goes on to a dead
 * pod; TCP connections keep their endpoint, as with kube-proxy (see `staleFlows`).
 *
 * Only Berth's table is touched: it is deleted at start (a crash leaves nothing a restart does
 * not clean) and at `removeAll` (shutdown, `berth down`). ClusterIPs are still added to `lo`
 * (ClusterIpAssigner) so that host-originated packets route without any default route; the
 * kernel DNATs them in the output hook. DNS is the same zone as in userspace mode.
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import type { Endpoints, Service } from "../../model/types.ts";
import type { Log } from "../../model/log.ts";
import { externalNameOf, usesNodePorts } from "../../actors/service.ts";
import { backendsForPort, type Backend } from "../../actors/service_endpoints.ts";
import { DEFAULT_TABLE, deleteTableScript, desiredRuleset, staleFlows, syncScript, type NftRuleset, type NftServicePort } from "../../actors/nft_rules.ts";
import { type DnsZone, dnsEndpointsOf } from "../dns/zone.ts";
import type { ClusterIpAssigner } from "../net/cluster_ip.ts";

const execFileP = promisify(execFile);

/** Kubernetes' default ClientIP affinity timeout (3 hours). */
const DEFAULT_AFFINITY_SECONDS = 10800;

/** Runs `nft -f -` with `script` on stdin; rejects with nft's stderr on failure. */
export function runNftScript(script: string, prefix: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = [...prefix, "nft", "-f", "-"];
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", (e) => reject(new Error(`cannot run nft: ${e.message}`, { cause: e })));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`nft -f - failed (exit ${code}): ${err.trim().slice(0, 2000)}`))));
    child.stdin.end(script);
  });
}

/** Runs `conntrack <args>`; "0 flow entries" (exit 1) is not an error. */
export async function runConntrack(args: string[], prefix: string[] = []): Promise<void> {
  const argv = [...prefix, "conntrack", ...args];
  try {
    await execFileP(argv[0], argv.slice(1), { timeout: 10_000 });
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message);
    if (/0 flow entries/.test(msg)) return;
    throw new Error(`conntrack ${args.join(" ")} failed: ${msg.trim()}`, { cause: e });
  }
}

export interface NftDataplaneOptions {
  zone: DnsZone;
  /** Adds ClusterIPs to `lo` (so host traffic routes); optional. */
  assigner?: ClusterIpAssigner;
  /** Which endpoints are dialled at their pod IP vs their host port (as LocalDataplane). */
  dialTarget: (b: Backend) => { host: string; port: number } | undefined;
  table?: string;
  /**
   * Masquerade pod → service traffic too (kube-proxy's --masquerade-all). Default: only when
   * br_netfilter is off (`/proc/sys/net/bridge/bridge-nf-call-iptables` is not 1), since then a
   * reply crossing the bridge would miss conntrack. See actors/nft_rules.ts.
   */
  masqueradeAll?: boolean;
  /** Applies one script (default: `nft -f -`). Injected to run inside a network namespace. */
  runNft?: (script: string) => Promise<void>;
  /** Runs `conntrack` with these arguments (default: the conntrack tool). */
  conntrack?: (args: string[]) => Promise<void>;
  /**
   * Puts the pod bridge's ports in hairpin mode (runtime/net/hairpin.ts), run before each sync's
   * rules go in: a pod's own Service may DNAT it back to itself only once its port allows it.
   * Every endpoint in the rules was a running pod (with its port) before it became ready, so
   * doing it before the sync that adds it is enough.
   */
  hairpin?: () => Promise<string[]>;
  log: Log;
}

interface Entry {
  service: Service;
  ports: NftServicePort[];
  clusterIP?: string;
}

/** Service + Endpoints → the port records the generator takes (pure given `dial`). */
export function nftPortsOf(svc: Service, ep: Endpoints, dial: NftDataplaneOptions["dialTarget"]): NftServicePort[] {
  const clusterIP = svc.spec.clusterIP;
  if (!clusterIP || clusterIP === "None") return [];
  const affinity = svc.spec.sessionAffinity === "ClientIP" ? (svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : 0;
  return (svc.spec.ports ?? []).map((p) => ({
    namespace: svc.metadata.namespace ?? "default",
    name: svc.metadata.name,
    protocol: (p.protocol ?? "TCP").toLowerCase() as NftServicePort["protocol"],
    clusterIP,
    port: p.port,
    ...(usesNodePorts(svc) && p.nodePort ? { nodePort: p.nodePort } : {}),
    affinitySeconds: affinity,
    endpoints: backendsForPort(ep, p).flatMap((b) => {
      const t = dial(b);
      return t ? [{ ip: t.host, port: t.port, ...(t.host !== b.ip ? { remote: true } : {}) }] : [];
    }),
  }));
}

export class NftDataplane {
  readonly table: string;
  private readonly entries = new Map<string, Entry>();
  private readonly runNft: (script: string) => Promise<void>;
  private readonly conntrack: (args: string[]) => Promise<void>;
  /** What the kernel holds (as last applied); undefined = unknown → the next sync rebuilds. */
  private applied?: NftRuleset;
  private appliedPorts: NftServicePort[] = [];
  private running?: Promise<void>;
  private queued?: Promise<void>;
  private closed = false;
  private lastSkipped = "";
  /** Syncs applied (for tests and logs). */
  syncs = 0;

  private readonly masqueradeAll: boolean;

  constructor(private readonly opts: NftDataplaneOptions) {
    this.table = opts.table ?? DEFAULT_TABLE;
    this.masqueradeAll = opts.masqueradeAll ?? !bridgeNetfilterOn();
    this.runNft = opts.runNft ?? ((s) => runNftScript(s));
    this.conntrack = opts.conntrack ?? ((a) => runConntrack(a));
  }

  /** Deletes a stale table (left by a crash) and installs the empty one. Call before use. */
  async start(): Promise<void> {
    await this.requestSync();
  }

  apply(svc: Service, ep: Endpoints): Promise<void> {
    if (this.closed) return Promise.resolve();
    const ns = svc.metadata.namespace ?? "default";
    const key = `${ns}/${svc.metadata.name}`;
    const externalName = externalNameOf(svc);
    if (externalName !== undefined) {
      // A DNS alias: no rules, no address (it may have been another type before).
      return this.withAddress(key, undefined, async () => {
        this.entries.delete(key);
        this.opts.zone.set({ namespace: ns, name: svc.metadata.name, ports: [], externalName });
        await this.requestSync();
      });
    }
    const clusterIP = svc.spec.clusterIP;
    if (!clusterIP) return Promise.resolve(); // Not allocated yet.
    const headless = clusterIP === "None";
    return this.withAddress(key, headless ? undefined : clusterIP, async () => {
      this.entries.set(key, { service: svc, ports: nftPortsOf(svc, ep, this.opts.dialTarget), clusterIP: headless ? undefined : clusterIP });
      this.opts.zone.set({
        namespace: ns,
        name: svc.metadata.name,
        clusterIP: headless ? undefined : clusterIP,
        ...(headless ? { endpoints: dnsEndpointsOf(ep) } : {}),
        ports: (svc.spec.ports ?? []).map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
      });
      await this.requestSync();
    });
  }

  remove(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    this.opts.zone.delete(namespace, name);
    return this.withAddress(key, undefined, () => this.requestSync());
  }

  /** Shutdown: removes Berth's table and the ClusterIP addresses. */
  async removeAll(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.running?.catch(() => {});
    await this.queued?.catch(() => {});
    for (const [key, e] of this.entries) {
      this.entries.delete(key);
      if (e.clusterIP) await this.opts.assigner?.release(e.clusterIP);
    }
    await this.runNft(deleteTableScript(this.table));
    this.applied = undefined;
  }

  /** No userspace proxies in this mode (the same question LocalDataplane answers). */
  proxiesOf(_namespace: string, _name: string): never[] {
    return [];
  }

  /** The service ports currently applied (for tests). */
  get ports(): NftServicePort[] {
    return this.appliedPorts;
  }

  /** Keeps the `lo` address of `key` in step with `clusterIP` (undefined = none) around `fn`. */
  private async withAddress(key: string, clusterIP: string | undefined, fn: () => Promise<void>): Promise<void> {
    const before = this.entries.get(key)?.clusterIP;
    if (clusterIP && clusterIP !== before) await this.opts.assigner?.acquire(clusterIP);
    if (!clusterIP) this.entries.delete(key);
    try {
      await fn();
    } finally {
      if (before && before !== clusterIP) await this.opts.assigner?.release(before);
    }
  }

  /** Coalesces syncs: every caller waits for a sync that started after its change. */
  private requestSync(): Promise<void> {
    if (this.queued) return this.queued;
    const prev = this.running ?? Promise.resolve();
    const next: Promise<void> = prev.catch(() => {}).then(() => {
      this.queued = undefined;
      this.running = next;
      return this.syncNow();
    });
    void next.finally(() => {
      if (this.running === next) this.running = undefined;
    }).catch(() => {});
    this.queued = next;
    return next;
  }

  private async syncNow(): Promise<void> {
    if (this.closed) return;
    if (this.opts.hairpin) {
      await this.opts.hairpin().then(
        (ports) => ports.length && this.opts.log("hairpin mode set on bridge ports", { ports }),
        (e: unknown) => this.opts.log("setting hairpin mode on bridge ports failed", { error: String(e) }),
      );
    }
    const ports = [...this.entries.values()].flatMap((e) => e.ports);
    const { ruleset, skipped } = desiredRuleset(ports, this.table, { masqueradeAll: this.masqueradeAll });
    const skippedText = skipped.join("; ");
    if (skippedText && skippedText !== this.lastSkipped) this.opts.log("service ports left out of the nftables rules", { reasons: skipped });
    this.lastSkipped = skippedText;
    const script = syncScript(ruleset, this.applied);
    if (script) {
      try {
        await this.runNft(script);
      } catch (e) {
        this.applied = undefined; // Unknown state: the next sync rebuilds the table whole.
        throw e;
      }
      this.syncs++;
    }
    this.applied = ruleset;
    const stale = staleFlows(this.appliedPorts, ports);
    this.appliedPorts = ports;
    for (const args of stale) {
      await this.conntrack(args).catch((e: unknown) => this.opts.log("conntrack flush failed", { error: String(e) }));
    }
  }
}

/** Deletes Berth's table if present (used by `berth down` checks and tests). */
export async function deleteNftTable(table = DEFAULT_TABLE, runNft: (s: string) => Promise<void> = (s) => runNftScript(s)): Promise<void> {
  await runNft(deleteTableScript(table));
}

/** True when bridged IPv4 traffic passes through netfilter (br_netfilter loaded and on). */
export function bridgeNetfilterOn(): boolean {
  try {
    return readFileSync("/proc/sys/net/bridge/bridge-nf-call-iptables", "utf8").trim() === "1";
  } catch {
    return false;
  }
}
