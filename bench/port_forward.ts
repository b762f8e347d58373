/**
 * Port-forward throughput: one HTTP download of a file from busybox httpd in a pod, directly to
 * the pod's IP (the peer) and through `kubectl port-forward` and `berth port-forward` (both:
 * local socket → API/CLI → NATS stream session with flow control → node agent → pod), in one run
 * against one `berth up --nodes 1` cluster on this machine's Docker.
 *
 *   npx tsx bench/port_forward.ts [--mib 64] [--rounds 3]
 *
 * Prints MB/s (10^6 bytes per second) per path, the median of the rounds, and each forwarded
 * path's ratio to the direct connection. Run it alone (it holds a cluster and the CPU).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { numArg } from "./args.ts";
import { median } from "./stats.ts";

const MIB = numArg("mib", 64);
const ROUNDS = numArg("rounds", 3);
const ROOT = new URL("..", import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), "berth-bench-pf-"));
const kubeconfig = join(home, "kubeconfig");
const children: ChildProcess[] = [];

function kubectl(args: string[]): string {
  const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", env: { ...process.env, HOME: home } });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function until<T>(f: () => T | undefined, what: string, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = f();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function start(cmd: string, args: string[]): { proc: ChildProcess; out(): string } {
  const proc = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, HOME: home, BERTH_HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  return { proc, out: () => out };
}

/** Downloads the file once; MB/s. */
async function download(url: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await fetch(url, { headers: { connection: "close" } });
  let n = 0;
  for await (const chunk of res.body!) n += (chunk as Uint8Array).length;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (n !== MIB * 1024 * 1024) throw new Error(`got ${n} bytes from ${url}, want ${MIB * 1024 * 1024}`);
  return n / 1e6 / s;
}

async function forwarded(cmd: string, args: string[]): Promise<{ port: number; stop(): void }> {
  const pf = start(cmd, args);
  const port = await until(() => Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.out())?.[1]) || undefined, `${cmd} port-forward`);
  return { port, stop: () => void pf.proc.kill("SIGINT") };
}


async function main(): Promise<void> {
  const up = start(process.execPath, [join(ROOT, "bin/berth.js"), "up", "--home", home, "--nodes", "1"]);
  await until(() => /cluster ready/.test(up.out()) || undefined, "berth up");
  writeFileSync(join(home, "pod.yaml"), `apiVersion: v1
kind: Pod
metadata: {name: bulk}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: berth/busybox:latest
    imagePullPolicy: Never
    command: ["sh", "-c", "mkdir -p /www && dd if=/dev/urandom of=/www/big bs=1048576 count=${MIB} 2>/dev/null && exec httpd -f -p 8080 -h /www"]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
`);
  kubectl(["apply", "-f", join(home, "pod.yaml")]);
  await until(() => / 1\/1 +Running/.test(kubectl(["get", "pod", "bulk", "--no-headers"])) || undefined, "pod bulk Ready");
  const ip = kubectl(["get", "pod", "bulk", "-o", "jsonpath={.status.podIP}"]).trim();
  const kpf = await forwarded("kubectl", ["--kubeconfig", kubeconfig, "port-forward", "pod/bulk", "0:8080"]);
  const bpf = await forwarded(process.execPath, [join(ROOT, "bin/berth.js"), "port-forward", "bulk", "0:8080", "--home", home]);
  const paths: [string, string][] = [
    ["direct to the pod IP", `http://${ip}:8080/big`],
    ["kubectl port-forward", `http://127.0.0.1:${kpf.port}/big`],
    ["berth port-forward", `http://127.0.0.1:${bpf.port}/big`],
  ];
  const results = new Map<string, number[]>(paths.map(([n]) => [n, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [name, url] of paths) results.get(name)!.push(await download(url));
  kpf.stop();
  bpf.stop();
  const direct = median(results.get(paths[0][0])!);
  console.log(`npx tsx bench/port_forward.ts --mib ${MIB} --rounds ${ROUNDS}   (${new Date().toISOString()})`);
  console.log(`one ${MIB} MiB HTTP download per path per round; median of ${ROUNDS} rounds`);
  for (const [name] of paths) {
    const m = median(results.get(name)!);
    console.log(`${name.padEnd(22)} ${m.toFixed(1).padStart(8)} MB/s   rounds: ${results.get(name)!.map((x) => x.toFixed(1)).join(", ")}${name === paths[0][0] ? "" : `   ratio to direct: ${(m / direct).toFixed(3)}`}`);
  }
  kubectl(["delete", "pod", "bulk", "--wait=true"]);
  up.proc.kill("SIGINT");
  await new Promise((r) => up.proc.once("exit", r));
}

main()
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  });
