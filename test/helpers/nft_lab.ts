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

/**
 * Server: answers each connection with `name\n`, then each line it receives with `name:line\n`,
 * and keeps the connection open until the client closes.
 */
const SERVER = `
const net = require("node:net");
const [port, name] = process.argv.slice(1);
const s = net.createServer((c) => {
  c.on("error", () => {});
  c.write(name + "\\n");
  let buf = "";
  c.on("data", (d) => { buf += d; let i; while ((i = buf.indexOf("\\n")) >= 0) { c.write(name + ":" + buf.slice(0, i) + "\\n"); buf = buf.slice(i + 1); } });
});
s.listen(Number(port), "0.0.0.0", () => console.log("listening"));
`;

/** UDP server: answers each datagram with its name. */
const UDP_SERVER = `
const dgram = require("node:dgram");
const [port, name] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
s.on("message", (m, r) => s.send(name, r.port, r.address));
s.bind(Number(port), "0.0.0.0", () => console.log("listening"));
`;

/**
 * UDP client: one socket on one port for its whole life (so every datagram is one conntrack
 * flow); each stdin line sends a datagram to host:port and prints the answer, or "timeout".
 */
const UDP_CLIENT = `
const dgram = require("node:dgram");
const [host, port] = process.argv.slice(1);
const s = dgram.createSocket("udp4");
let waiting = null;
s.on("message", (m) => { if (waiting) { clearTimeout(waiting); waiting = null; console.log(String(m)); } });
s.bind(0, () => {
  console.log("ready");
  process.stdin.setEncoding("utf8").on("data", () => {
    s.send("?", Number(port), host);
    waiting = setTimeout(() => { waiting = null; console.log("timeout"); }, 2000);
  });
});
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
      if (hold === "1") {
        if (!c.held) {
          c.held = true;
          console.log(JSON.stringify({ replies: [buf.trim()], errors: [] }));
          c.setTimeout(0);
          // Held: each stdin line goes to the server, each line back is printed as "DATA <line>".
          process.stdin.setEncoding("utf8").on("data", (l) => c.write(l));
          c.on("close", () => console.log("CLOSED"));
        } else {
          for (const l of buf.split("\\n").slice(0, -1)) console.log("DATA " + l);
        }
        buf = buf.slice(buf.lastIndexOf("\\n") + 1);
        return;
      }
      c.destroy(); resolve({ reply: buf.trim() });
    }
  });
  c.on("error", (e) => resolve({ error: e.code + " " + (Date.now() - t0) }));
});
(async () => {
  const replies = [], errors = [];
  // count "for<ms>": as many connections as fit in that time; "stdin": until a line comes on
  // stdin (after printing FIRST once the first connection is done).
  const untilStopped = count === "stdin";
  let stopped = false;
  if (untilStopped) process.stdin.setEncoding("utf8").on("data", () => { stopped = true; });
  const until = count.startsWith("for") ? Date.now() + Number(count.slice(3)) : Infinity;
  const more = (i) => (untilStopped ? !stopped : until !== Infinity ? Date.now() < until : i < Number(count));
  for (let i = 0; more(i); i++) {
    const r = await one(); if (r.reply) replies.push(r.reply); else errors.push(r.error);
    if (untilStopped && i === 0) console.log("FIRST");
  }
  if (hold !== "1") console.log(JSON.stringify({ replies, errors }));
  if (untilStopped) process.exit(0);
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
    return this.startServer(SERVER, ns, port, name);
  }

  /** `count` sequential connections from inside `ns` (or as many as fit in `{ forMs }`). */
  async connect(ns: string, host: string, port: number, count: number | { forMs: number } = 1): Promise<ClientResult> {
    if (typeof count === "object") count = `for${count.forMs}` as unknown as number;
    const out = await sh("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, host, String(port), String(count), "0"]);
    return JSON.parse(out) as ClientResult;
  }

  /**
   * Sequential connections from inside `ns`, one after the other, from once the first is done
   * (when this resolves) until `stop()`, which resolves with all of them.
   */
  async connectUntilStopped(ns: string, host: string, port: number): Promise<{ stop(): Promise<ClientResult> }> {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, host, String(port), "stdin", "0"], { stdio: ["pipe", "pipe", "inherit"] });
    this.children.push(child);
    const lines = this.lines(child);
    const first = await lines.next(10_000);
    if (first !== "FIRST") throw new Error(`client loop: ${first} before its first connection was done`);
    return {
      async stop() {
        child.stdin!.write("stop\n");
        return JSON.parse(await lines.next(30_000)) as ClientResult;
      },
    };
  }

  /**
   * One connection from `ns` held open; resolves with the server's first reply, `ask(line)` (sends
   * a line on the same connection and resolves with the answer, or rejects if the connection
   * closed or nothing came within 3 s) and `close()`.
   */
  hold(ns: string, host: string, port: number): Promise<{ reply: string; ask(line: string): Promise<string>; close(): void }> {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", CLIENT, host, String(port), "1", "1"], { stdio: ["pipe", "pipe", "inherit"] });
    this.children.push(child);
    const lines = this.lines(child);
    return new Promise((resolve, reject) => {
      child.on("exit", (code) => reject(new Error(`held client exited (${code})`)));
      lines.next().then((first) => {
        const r = JSON.parse(first) as ClientResult;
        if (!r.replies[0]) return reject(new Error(`held connection failed: ${first}`));
        const ask = async (line: string): Promise<string> => {
          child.stdin!.write(line + "\n");
          const got = await lines.next(3000);
          if (!got.startsWith("DATA ")) throw new Error(`held connection: ${got} instead of an answer to ${JSON.stringify(line)}`);
          return got.slice(5);
        };
        resolve({ reply: r.replies[0], ask, close: () => child.kill() });
      }, reject);
    });
  }

  /** Starts a UDP server in `ns` on `port` answering every datagram with `name`; resolves once bound, with a stop. */
  serveUdp(ns: string, port: number, name: string): Promise<() => Promise<void>> {
    return this.startServer(UDP_SERVER, ns, port, name);
  }

  /** Runs a server script in `ns`; resolves once it prints that it listens, with a stop (SIGKILL). */
  private async startServer(script: string, ns: string, port: number, name: string): Promise<() => Promise<void>> {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script, String(port), name], { stdio: ["ignore", "pipe", "inherit"] });
    this.children.push(child);
    await this.lines(child).next().catch((e: Error) => {
      throw new Error(`server ${name} in ${ns} did not start (exit ${child.exitCode}): ${e.message}`);
    });
    return () => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => (child.once("exit", () => r()), child.kill("SIGKILL"))));
  }

  /** A UDP client in `ns` on one source port; `ask()` sends a datagram to host:port and resolves with the answer or "timeout". */
  async udpClient(ns: string, host: string, port: number): Promise<{ ask(): Promise<string>; close(): void }> {
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", UDP_CLIENT, host, String(port)], { stdio: ["pipe", "pipe", "inherit"] });
    this.children.push(child);
    const lines = this.lines(child);
    await lines.next();
    return {
      ask: () => (child.stdin!.write("?\n"), lines.next(5000)),
      close: () => child.kill(),
    };
  }

  /** The child's stdout as lines; `next(ms)` rejects if no line comes in time or the child exits first. */
  private lines(child: ChildProcess): { next(ms?: number): Promise<string> } {
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    let buf = "";
    let ended = false;
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) (queue.push(buf.slice(0, i)), (buf = buf.slice(i + 1)));
      wake?.();
    });
    // "close", not "exit": the last output may still be on its way when the process has exited.
    child.on("close", () => ((ended = true), wake?.()));
    return {
      next: async (ms = 20_000) => {
        const deadline = Date.now() + ms;
        while (queue.length === 0) {
          if (ended) throw new Error("the child exited before printing a line");
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no line within ${ms} ms`);
          await new Promise<void>((r) => {
            const t = setTimeout(r, left);
            wake = () => (clearTimeout(t), r());
          });
          wake = undefined;
        }
        return queue.shift()!;
      },
    };
  }

  async destroy(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null) c.kill("SIGKILL");
    await Promise.all(this.children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    for (const ns of this.namespaces.reverse()) await sh("ip", ["netns", "del", ns]).catch(() => {});
  }
}
