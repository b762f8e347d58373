/**
 * A diagnostic for the nftables bench's new-connection column (docs/benchmarks.md, "nftables new
 * connections: the cause"): short wrk runs with one connection per request, direct and through
 * the ClusterIP, in the namespaces bench/nft_netns.ts builds. After each run it prints the node's
 * conntrack count and error counters (`conntrack -C`, `conntrack -S`) and the sockets of the
 * client and the pod (`ss -s`). At the end it prints the TCP counters that matter here (`nstat`)
 * for each namespace.
 *
 *   npx tsx bench/nft_probe.ts [--plan d,n,n,d] [--duration 3] [--shared-pod-address 1]
 *
 * `--plan`: the runs in order, d = direct, n = nftables. `--shared-pod-address 1` makes the
 * Service's endpoint the direct row's address, which was the bench's first setup. With it, an n
 * run after a d run shows TcpExtPAWSTimewait in the pod and TcpExtTCPSynRetrans in the client.
 * Root only. Run it under the shared heavy-job lock.
 */
import { execFile } from "node:child_process";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startNftBench } from "./nft_netns.ts";

const execFileP = promisify(execFile);
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const PLAN = arg("plan", "d,n,n,d").split(",");
const DURATION = Number(arg("duration", "3"));
const SHARED = arg("shared-pod-address", "0") === "1";

/** stdout of a command; its error text instead when it fails (conntrack exits 1 on "0 entries"). */
async function sh(argv: string[]): Promise<string> {
  try {
    return (await execFileP(argv[0], argv.slice(1), { encoding: "utf8", maxBuffer: 1e8 })).stdout;
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? "") + String((e as { stderr?: string }).stderr ?? (e as Error).message);
  }
}

async function waitListening(exec: string[], host: string, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const probe = `require("node:net").connect(${port}, "${host}").on("connect", () => process.exit(0)).on("error", () => process.exit(1))`;
      await execFileP(exec[0], [...exec.slice(1), process.execPath, "-e", probe]);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), "berth-nft-probe-"));
  const body = "x".repeat(10 * 1024);
  writeFileSync(join(dir, "up.cfg"), `global\n  maxconn 4000\n  nbthread 1\ndefaults\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  mode http\nfrontend up\n  bind 0.0.0.0:8080\n  http-request return status 200 content-type text/plain string "${body}"\n`);
  const www = join(dir, "www");
  mkdirSync(www);
  const fd = openSync(join(www, "big"), "w");
  ftruncateSync(fd, 1 << 20);
  closeSync(fd);
  const nft = await startNftBench(join(dir, "up.cfg"), www, waitListening, { sharedPodAddress: SHARED });
  const client = nft.exec[3];
  const node = client.replace(/-client$/, "-node");
  const pod = client.replace(/-client$/, "-pod");
  const inNs = (ns: string, ...cmd: string[]) => sh(["ip", "netns", "exec", ns, ...cmd]);
  try {
    console.log(`# npx tsx bench/nft_probe.ts --plan ${PLAN.join(",")} --duration ${DURATION}${SHARED ? " --shared-pod-address 1" : ""}  (${new Date().toISOString()})`);
    for (const p of PLAN) {
      const url = p === "d" ? nft.direct.url : nft.nftables.url;
      const out = await sh([...nft.exec, "wrk", "-t2", "-c32", `-d${DURATION}s`, "-H", "Connection: close", url]);
      const rps = /Requests\/sec:\s+(\S+)/.exec(out)?.[1] ?? "?";
      const errors = /Socket errors[^\n]*/.exec(out)?.[0] ?? "";
      const count = (await inNs(node, "conntrack", "-C")).trim();
      const stats = (await inNs(node, "conntrack", "-S")).split("\n").filter((l) => /\b(insert_failed|drop|early_drop|invalid|clash_resolve)=[1-9]/.test(l)).join(" | ") || "no conntrack errors";
      console.log(`${p === "d" ? "direct  " : "nftables"} ${rps} req/s ${errors}; conntrack entries ${count}; ${stats}`);
      console.log(`    client ${(await inNs(client, "ss", "-s")).split("\n")[1]}`);
      console.log(`    pod    ${(await inNs(pod, "ss", "-s")).split("\n")[1]}`);
    }
    for (const [label, ns] of [["client", client], ["pod", pod]]) {
      const lines = (await inNs(ns, "nstat", "-az")).split("\n").filter((l) => /PAWS|SynRetrans|TCPTimeouts|TW\b|EstabResets/.test(l) && !/\s0\s/.test(l));
      console.log(`# ${label}: ${lines.map((l) => l.split(/\s+/).slice(0, 2).join(" ")).join(", ")}`);
    }
  } finally {
    await nft.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
