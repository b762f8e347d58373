/**
 * Configuration files for a NATS cluster with JetStream — what `berth nats-config` writes: one
 * file per server, each naming itself (`server_name`, which JetStream clustering requires), its
 * client and route listeners, and routes to every other server. With three servers the state
 * bucket is created with 3 replicas (`berth control-plane --replicas 3`), so it survives the loss
 * of any one server.
 *
 * Rendering is pure (`renderNatsClusterConfigs`); `writeNatsClusterConfigs` writes the files.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class NatsClusterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NatsClusterConfigError";
  }
}

export interface NatsClusterServer {
  /** Address other servers and clients reach this server at (IP or DNS name). */
  host: string;
  /** Client port (default 4222). */
  port: number;
  /** Route port (default 6222). */
  clusterPort: number;
  /** Default `<cluster>-<index+1>`. */
  name: string;
}

export interface NatsClusterConfigOptions {
  cluster: string;
  servers: NatsClusterServer[];
  /** JetStream directory on each server (default `/var/lib/berth/nats`); `{name}` becomes the server name. */
  storeDir?: string;
  /** Listen on this address instead of the server's own host (e.g. 0.0.0.0). */
  listenHost?: string;
  /** Credentials servers use to authenticate their routes to each other (recommended). */
  routeUser?: string;
  routePassword?: string;
  /** Appended to every file verbatim (e.g. an `authorization {}` block or an `include`). */
  extraConfig?: string;
}

const NAME = /^[A-Za-z0-9_-]+$/;
const HOST = /^[A-Za-z0-9.:-]+$/;

/**
 * Parses `host[:port[:clusterPort]]` items (a comma-separated list is accepted too).
 * IPv6 addresses go in brackets: `[fd00::1]:4222`.
 */
export function parseServerList(items: string[], cluster: string): NatsClusterServer[] {
  const parts = items.flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new NatsClusterConfigError("give at least one server (--server host:port)");
  return parts.map((p, i) => {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\[\]]+)(?::(\d+))?(?::(\d+))?$/.exec(p);
    if (!m) throw new NatsClusterConfigError(`cannot parse server ${JSON.stringify(p)}: expected host[:port[:clusterPort]]`);
    const host = m[1].replace(/^\[|\]$/g, "");
    const port = m[2] ? Number(m[2]) : 4222;
    const clusterPort = m[3] ? Number(m[3]) : 6222;
    for (const n of [port, clusterPort]) if (!(n > 0 && n < 65536)) throw new NatsClusterConfigError(`port out of range in ${JSON.stringify(p)}`);
    return { host, port, clusterPort, name: `${cluster}-${i + 1}` };
  });
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The configuration text of every server, by server name. */
export function renderNatsClusterConfigs(opts: NatsClusterConfigOptions): Map<string, string> {
  if (!NAME.test(opts.cluster)) throw new NatsClusterConfigError(`invalid cluster name ${JSON.stringify(opts.cluster)}: letters, digits, - and _ only`);
  if (opts.servers.length === 0) throw new NatsClusterConfigError("a cluster needs at least one server");
  if (opts.servers.length === 2) {
    // JetStream's meta group needs a majority: two servers tolerate no failure and are worse than one.
    throw new NatsClusterConfigError("a JetStream cluster of 2 servers cannot lose either; use 1 or 3 (or 5)");
  }
  const names = new Set<string>();
  for (const s of opts.servers) {
    if (!NAME.test(s.name)) throw new NatsClusterConfigError(`invalid server name ${JSON.stringify(s.name)}`);
    if (!HOST.test(s.host)) throw new NatsClusterConfigError(`invalid host ${JSON.stringify(s.host)}`);
    if (names.has(s.name)) throw new NatsClusterConfigError(`duplicate server name ${s.name}`);
    names.add(s.name);
  }
  if ((opts.routeUser === undefined) !== (opts.routePassword === undefined)) throw new NatsClusterConfigError("give both a route user and a route password, or neither");
  const q = (s: string) => JSON.stringify(s);
  const storeDir = opts.storeDir ?? "/var/lib/berth/nats";
  const routeAuth = opts.routeUser !== undefined ? `${encodeURIComponent(opts.routeUser)}:${encodeURIComponent(opts.routePassword!)}@` : "";
  const out = new Map<string, string>();
  for (const s of opts.servers) {
    const listen = opts.listenHost ?? s.host;
    const routes = opts.servers.filter((o) => o !== s).map((o) => `    ${q(`nats-route://${routeAuth}${hostPort(o.host, o.clusterPort)}`)}`);
    const lines = [
      `# Berth NATS server ${s.name} of cluster ${opts.cluster} (written by berth nats-config)`,
      `server_name: ${q(s.name)}`,
      `listen: ${q(hostPort(listen, s.port))}`,
      `max_payload: 4MB`,
      `jetstream {`,
      `  store_dir: ${q(storeDir.replaceAll("{name}", s.name))}`,
      `}`,
    ];
    if (opts.servers.length > 1) {
      lines.push(
        `cluster {`,
        `  name: ${q(opts.cluster)}`,
        `  listen: ${q(hostPort(listen, s.clusterPort))}`,
        ...(opts.routeUser !== undefined ? [`  authorization { user: ${q(opts.routeUser)}, password: ${q(opts.routePassword!)} }`] : []),
        `  routes: [`,
        routes.join(",\n"),
        `  ]`,
        `}`,
      );
    }
    if (opts.extraConfig) lines.push(opts.extraConfig);
    out.set(s.name, lines.join("\n") + "\n");
  }
  return out;
}

/** Writes `<dir>/<server name>.conf` for every server (mode 0600: they may hold passwords). */
export function writeNatsClusterConfigs(dir: string, opts: NatsClusterConfigOptions): string[] {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of renderNatsClusterConfigs(opts)) {
    const path = join(dir, `${name}.conf`);
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
    paths.push(path);
  }
  return paths;
}
