/**
 * A private network lab for tests that change kernel rules: a "node" network namespace with a
 * bridge (10.244.0.1/24), and "pod" namespaces on veth pairs behind it, each able to run a plain
 * TCP server that answers every connection with its name. Nothing is created in the host's own
 * namespace (both veth ends are made inside the lab's namespaces); `destroy()` removes it all.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

/** Server: answers each connection with `name\n` and keeps it open until the client closes. */
const SERVER = `
const net = require("node:net");
const [port, name] = process.argv.slice(1);
const s = net.createServer((c) => { c.on("error", () => {}); c.write(name + "\\n"); });
s.listen(Number(port), "0.0.0.0", () => console.log("listening"));
`;

/**
 * Client: \`count\` connections one after the other; prints JSON {replies, errors}. Each error is
 * "<code> <ms>". With hold=1 it opens one connection, prints the reply and stays until killed.
 */
const CLIENT = `
const net = require("node:net");
const [host, port, count, hold] = process.argv.slice(1);
const one = () => new Promise((resolve) => {
  const t0 = Date.now();
  const c = net.connect({ host, port: Number(port) });
  let buf = "";
  c.setTimeout(5000, () => { c.destroy(); resolve({ error: "ETIMEDOUT " + (Date.now() - t0) }); });
  c.on("data", (d) => {
    buf += d;
    if (buf.includes("\\n")) {
      if (hold === "1") { console.log(JSON.stringify({ replies: [buf.trim()], errors: [] })); c.setTimeout(0); return; }
      c.destroy(); resolve({ reply: buf.trim() });
    }
  });
  c.on("error", (e) => resolve({ error: e.code + " " + (Date.now() - t0) }));
});
(async () => {
  const replies = [], errors = [];
  // count "for<ms>": as many connections as fit in that time.
  const until = count.startsWith("for") ? Date.now() + Number(count.slice(3)) : Infinity;
  for (let i = 0; until !== Infinity ? Date.now() < until : i < Number(count); i++) { const r = await one(); if (r.reply) replies.push(r.reply); else errors.push(r.error); }
  if (hold !== "1") console.log(JSON.stringify({ replies, errors }));
})();
`;

export interface ClientResult {
  replies: string[];
  errors: string[];
}

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { timeout: 20_000 });
    return stdout;
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`, { cause: e });
  }
}

export class NftLab {
  readonly id = randomBytes(3).toString("hex");
  readonly node = `berth-test-${this.id}-node`;
  readonly gateway = "10.244.0.1";
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private pods = 0;

  /** Creates the node namespace with its bridge. */
  async create(): Promise<void> {
    await this.addNs(this.node);
    await this.ipIn(this.node, "link", "add", "br0", "type", "bridge");
    await this.ipIn(this.node, "addr", "add", `${this.gateway}/24`, "dev", "br0");
    await this.ipIn(this.node, "link", "set", "br0", "up");
    await sh("ip", ["netns", "exec", this.node, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  }

  private async addNs(ns: string): Promise<void> {
    await sh("ip", ["netns", "add", ns]);
    this.namespaces.push(ns);
    await this.ipIn(ns, "link", "set", "lo", "up");
  }

  ipIn(ns: string, ...args: string[]): Promise<string> {
    return sh("ip", ["-n", ns, ...args]);
  }

  /** Runs a command inside namespace `ns`. */
  exec(ns: string, cmd: string, ...args: string[]): Promise<string> {
    return sh("ip", ["netns", "exec", ns, cmd, ...args]);
  }

  /** A pod namespace on the bridge with address 10.244.0.<n>; returns its name and IP. */
  async addPod(label: string): Promise<{ ns: string; ip: string }> {
    const n = ++this.pods;
    const ns = `berth-test-${this.id}-${label}`;
    const ip = `10.244.0.${n + 1}`;
    await this.addNs(ns);
    await this.ipIn(this.node, "link", "add", `v${n}`, "type", "veth", "peer", "name", "eth0", "netns", ns);
    // Hairpin mode is left off: NftDataplane's `hairpin` option (runtime/net/hairpin.ts) sets it.
    await this.ipIn(this.node, "link", "set", `v${n}`, "master", "br0", "up");
    await this.ipIn(ns, "addr", "add", `${ip}/24`, "dev", "eth0");
    await this.ipIn(ns, "link", "set", "eth0", "up");
    await this.ipIn(ns, "route", "add", "default", "via", this.gateway);
    return { ns, ip };
  }

  /** Starts the name-answering TCP server in `ns` on `port`; resolves once it listens, with a stop. */
  serve(ns: string, port: number, name: string): Promise<() => Promise<void>> {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", SERVER, String(port), name], { stdio: ["ignore", "pipe", "inherit"] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        if (d.includes("listening")) resolve(() => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGKILL")))));
      });
      child.on("exit", (code) => reject(new Error(`server ${name} in ${ns} exited (${code})`)));
    });
  }

  /** `count` sequential connections from inside `ns` (or as many as fit in `{ forMs }`). */
  async connect(ns: string, host: string, port: number, count: number | { forMs: number } = 1): Promise<ClientResult> {
    if (typeof count === "object") count = `for${count.forMs}` as unknown as number;
    const out = await sh("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, host, String(port), String(count), "0"]);
    return JSON.parse(out) as ClientResult;
  }

  /** One connection from `ns` held open; resolves with the reply and a `close()`. */
  hold(ns: string, host: string, port: number): Promise<{ reply: string; close(): void }> {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, host, String(port), "1", "1"], { stdio: ["ignore", "pipe", "inherit"] });
    this.children.push(child);
    return new Promise((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        const r = JSON.parse(d) as ClientResult;
        if (r.replies[0]) resolve({ reply: r.replies[0], close: () => child.kill() });
        else reject(new Error(`held connection failed: ${d}`));
      });
      child.on("exit", (code) => reject(new Error(`held client exited (${code})`)));
    });
  }

  async destroy(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null) c.kill("SIGKILL");
    await Promise.all(this.children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    for (const ns of this.namespaces.reverse()) await sh("ip", ["netns", "del", ns]).catch(() => {});
  }
}
