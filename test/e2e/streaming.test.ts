/**
 * kubectl 1.32's interactive verbs against `berth up` on real Docker: exec with and without -i
 * (exit codes carried through), cp both ways (exec + tar), port-forward with HTTP through it
 * (busybox httpd in the pod), a refused port-forward that errors instead of hanging, the same
 * exec from @kubernetes/client-node, `kubectl run -i/-it --rm` and `berth attach -i` (containers'
 * stdin, stdinOnce, tty), and teardown from both ends: a killed kubectl, a killed process and a
 * killed node agent leave no `docker exec` process in the container and no stream subscription
 * on the cluster's NATS server (this test runs its own nats-server with monitoring and gives it
 * to `berth up --nats`, so it outlives a `berth up` killed and started again).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import Docker from "dockerode";
import { waitFor } from "../helpers/nats.ts";
import { berth, berthUp } from "../helpers/cli.ts";
import { collect, containersOf, startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { LABELS } from "../../model/container_runtime.ts";

const POD = `apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: berth/busybox:latest
    imagePullPolicy: Never
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-box > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
`;

async function freePort(): Promise<number> {
  return await new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe.sequential("kubectl exec, cp and port-forward on Docker (berth up)", () => {
  let c: BerthUpCluster;
  let nats: NatsServerHandle;
  let monitor = 0;
  const docker = new Docker();

  const ok = (args: string[], stdin?: string): string => {
    const r = c.kubectl(args, { stdin });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** Subscriptions on stream-session subjects, over every connection of the cluster's NATS server. */
  const streamSubs = async (): Promise<string[]> => {
    const r = (await (await fetch(`http://127.0.0.1:${monitor}/connz?subs=1&limit=1000`)).json()) as { connections: { subscriptions_list?: string[] }[] };
    return r.connections.flatMap((x) => x.subscriptions_list ?? []).filter((s) => s.includes(".streamio."));
  };
  const boxContainer = async () => (await containersOf(c, docker)).find((x) => x.Labels[LABELS.podName] === "box" && x.Labels[LABELS.role] === "app" && x.State === "running")!;
  const processes = async (): Promise<string[]> => {
    const top = await docker.getContainer((await boxContainer()).Id).top();
    return ((top.Processes ?? []) as string[][]).map((p: string[]) => p[p.length - 1]);
  };

  beforeAll(async () => {
    monitor = await freePort();
    nats = await startNatsServer({ extraConfig: `http: "127.0.0.1:${monitor}"` });
    c = await startBerthUpCluster("streaming", ["--nodes", "1", "--nats", nats.url]);
    writeFileSync(join(c.home, "box.yaml"), POD);
    ok(["apply", "-f", join(c.home, "box.yaml")]);
    await waitFor(() => / 1\/1 +Running/.test(ok(["get", "pod", "box", "--no-headers"])), "pod box Running and Ready", 60_000, 250);
  }, 300_000);

  afterAll(async () => {
    if (c) await stopBerthUpCluster(c);
    await nats?.stop();
  }, 180_000);

  it("kubectl exec prints stdout and stderr and exits with the command's exit code", () => {
    const r = c.kubectl(["exec", "box", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    expect(r.stderr).toContain("command terminated with exit code 3");
    expect(r.code).toBe(3);
    expect(ok(["exec", "box", "--", "cat", "/www/index.html"])).toBe("hello-from-box\n");
  });

  it("kubectl exec -i passes stdin through, to its end", () => {
    const text = "line one\nline two\n".repeat(5000);
    expect(ok(["exec", "-i", "box", "--", "sh", "-c", "wc -l; echo done"], text)).toBe("10000\ndone\n");
  });

  it("kubectl exec -it gives the command a terminal of the client's size (TTY and resize channel)", () => {
    // script(1) gives kubectl a terminal of 123 columns and 45 rows. Docker's API 1.41 sizes an
    // exec's terminal only after it started, so the command waits (up to 5 s) for the size to land.
    const wait = `i=0; while [ "$(stty size)" != "45 123" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done`;
    const cmd = `stty cols 123 rows 45; kubectl --kubeconfig ${join(c.home, "kubeconfig")} exec -it box -- sh -c '${wait}; tty; stty size'`;
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 60_000, env: { ...process.env, HOME: join(c.home, "kubectl-home") } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r?\n45 123\r?\n/);
  });

  it("kubectl run -i --rm attaches to the container's stdin (stdin, stdinOnce) and removes the pod after", async () => {
    const r = c.kubectl(["run", "once", "--image=berth/busybox:latest", "--image-pull-policy=Never", "--restart=Never", "-i", "--rm", "--", "sh", "-c", "read x; echo got-$x"], { stdin: "hello\n", timeoutMs: 90_000 });
    expect(r.stderr).not.toMatch(/unknown field/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("got-hello\n");
    await waitFor(() => c.kubectl(["get", "pod", "once"]).code === 1, "kubectl run --rm to delete the pod", 30_000, 250);
  });

  it("kubectl run -it gives the attached shell a terminal", () => {
    // script(1) gives kubectl a terminal; the typed line reaches the shell, its answer comes back,
    // and `exit 0` ends the pod (stdinOnce closes stdin when kubectl detaches).
    const cmd = `kubectl --kubeconfig ${join(c.home, "kubeconfig")} run tty1 --image=berth/busybox:latest --image-pull-policy=Never --restart=Never -it --rm -- sh -c 'read x; tty; echo typed-$x'`;
    const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { input: "abc\n", encoding: "utf8", timeout: 90_000, env: { ...process.env, HOME: join(c.home, "kubectl-home") } });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r?\ntyped-abc/);
    expect(r.status, r.stdout).toBe(0);
  });

  it("exec into a missing pod is a 404 naming it; a missing container a 400 naming both", () => {
    const a = c.kubectl(["exec", "ghost", "--", "true"]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain(`Error from server (NotFound): pods "ghost" not found`);
    const b = c.kubectl(["exec", "box", "-c", "nope", "--", "true"]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("container nope is not valid for pod box");
  });

  it("kubectl cp copies a file into the pod and back, byte for byte", () => {
    const data = randomBytes(256 * 1024);
    const src = join(c.home, "payload.bin");
    const back = join(c.home, "payload.back");
    writeFileSync(src, data);
    ok(["cp", src, "box:/tmp/payload.bin"]);
    expect(ok(["exec", "box", "--", "sh", "-c", "wc -c < /tmp/payload.bin"]).trim()).toBe(String(data.length));
    ok(["cp", "box:/tmp/payload.bin", back]);
    expect(readFileSync(back).equals(data)).toBe(true);
  });

  it("kubectl port-forward carries HTTP to the pod's httpd", async () => {
    const pf = c.spawnKubectl(["port-forward", "pod/box", "0:8080"]);
    const out = collect(pf);
    try {
      const local = Number((await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out.text()), "kubectl port-forward to listen", 20_000))[1]);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${local}/index.html`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        expect(await res.text()).toBe("hello-from-box\n");
      }
    } finally {
      pf.kill("SIGINT");
    }
    await waitFor(async () => (await streamSubs()).length === 0, "every stream subscription gone after port-forward", 15_000, 100);
  });

  it("port-forward to a closed port fails with kubectl's connection-refused error, not a hang", async () => {
    const pf = c.spawnKubectl(["port-forward", "pod/box", "0:8081"]);
    const out = collect(pf);
    try {
      const local = Number((await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out.text()), "kubectl port-forward to listen", 20_000))[1]);
      await expect(fetch(`http://127.0.0.1:${local}/`, { signal: AbortSignal.timeout(10_000) })).rejects.toThrow();
      await waitFor(() => /error forwarding port 8081 to pod box.*connection refused/.test(out.text()), "kubectl to report the refusal", 10_000, 100);
    } finally {
      pf.kill("SIGINT");
    }
  });

  it("@kubernetes/client-node Exec streams output and reports the exit code in its Status", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(join(c.home, "kubeconfig"));
    const exec = new k8s.Exec(kc);
    const stdout = new PassThrough();
    let text = "";
    stdout.on("data", (d) => (text += d));
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      exec.exec("default", "box", "main", ["sh", "-c", "echo from-client-node; exit 4"], stdout, null, null, false, (s) => resolve(s)).catch(reject);
    });
    expect(text).toBe("from-client-node\n");
    expect(status.status).toBe("Failure");
    expect(status.reason).toBe("NonZeroExitCode");
    expect(status.details?.causes?.[0]).toEqual({ reason: "ExitCode", message: "4" });
  });

  it("berth exec [-i], cp both ways and port-forward do the same over NATS", async () => {
    const b = (args: string[], input?: string) => berth("node", c.home, args, input);
    const r = b(["exec", "box", "--", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    expect([r.code, r.stdout, r.stderr]).toEqual([5, "out\n", "err\n"]);
    expect(b(["exec", "-i", "box", "--", "wc", "-c"], "12345").stdout.trim()).toBe("5");
    const data = randomBytes(200 * 1024);
    const src = join(c.home, "berth.bin");
    const back = join(c.home, "berth.back");
    writeFileSync(src, data);
    const up = b(["cp", src, "box:/tmp/berth.bin"]);
    expect(up.code, up.stderr).toBe(0);
    expect(b(["cp", "box:/tmp/berth.bin", back]).code).toBe(0);
    expect(readFileSync(back).equals(data)).toBe(true);
    const missing = b(["cp", "box:/tmp/absent", back]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("/tmp/absent");
    const pf = c.spawnBerth(["port-forward", "box", "0:8080"]);
    const out = collect(pf);
    try {
      const local = Number((await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out.text()), "berth port-forward to listen", 20_000))[1]);
      expect(await (await fetch(`http://127.0.0.1:${local}/index.html`, { headers: { connection: "close" } })).text()).toBe("hello-from-box\n");
    } finally {
      pf.kill("SIGINT");
    }
  });

  it("berth attach -i writes to the main process's stdin (stdin, stdinOnce) and prints its output", async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: echoer}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: berth/busybox:latest, imagePullPolicy: Never, stdin: true, stdinOnce: true, command: [sh, -c, "while read l; do echo echo-$l; done; echo bye"]}
`;
    ok(["apply", "-f", "-"], pod);
    await waitFor(() => / Running /.test(ok(["get", "pod", "echoer", "--no-headers"])), "pod echoer Running", 60_000, 250);
    // The output comes only in answer to the input, so nothing is printed before the attach.
    const r = berth("node", c.home, ["attach", "-i", "echoer"], "abc\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("echo-abc\nbye\n");
    ok(["delete", "pod", "echoer", "--wait=false"]);
  });

  it("a process killed in the container mid-exec ends kubectl with its exit code, and no stream subscription stays", async () => {
    const ex = c.spawnKubectl(["exec", "box", "--", "sh", "-c", "exec sleep 4321"]);
    const exited = new Promise<number | null>((r) => ex.on("close", (code) => r(code)));
    const out = collect(ex);
    const top = async () => {
      const t = await docker.getContainer((await boxContainer()).Id).top();
      return ((t.Processes ?? []) as string[][]).filter((p) => p[p.length - 1].includes("sleep 4321"));
    };
    const [proc] = await waitFor(async () => ((await top()).length ? await top() : undefined), "the exec'd sleep to run", 20_000, 100);
    expect((await streamSubs()).length).toBeGreaterThan(0);
    // The pod's end goes away: the process dies of SIGKILL (docker top's second column is its host pid).
    process.kill(Number(proc[1]), "SIGKILL");
    expect(await exited, out.text()).toBe(137);
    expect(out.text()).toContain("command terminated with exit code 137");
    await waitFor(async () => (await streamSubs()).length === 0, "every stream subscription gone", 20_000, 100);
    expect(await top()).toEqual([]);
  });

  it("a kubectl that goes away mid-exec leaves no process in the container and no stream subscription", async () => {
    const ex = c.spawnKubectl(["exec", "box", "--", "sleep", "1234"]);
    await waitFor(async () => (await processes()).some((p) => p.includes("sleep 1234")), "the exec'd sleep to run", 20_000, 100);
    expect((await streamSubs()).length).toBeGreaterThan(0);
    ex.kill("SIGKILL");
    await waitFor(async () => !(await processes()).some((p) => p.includes("sleep 1234")), "the exec'd sleep to be killed", 20_000, 100);
    await waitFor(async () => (await streamSubs()).length === 0, "every stream subscription gone", 20_000, 100);
  });

  it("a node agent that dies mid-exec: the next one kills the process it left in the container", async () => {
    const ex = c.spawnKubectl(["exec", "box", "--", "sh", "-c", "exec sleep 5678"]);
    const exited = new Promise<number | null>((r) => ex.on("exit", (code) => r(code)));
    await waitFor(async () => (await processes()).some((p) => p.includes("sleep 5678")), "the exec'd sleep to run", 20_000, 100);
    // The whole `berth up` (API, control plane, node agent) dies at once; Docker keeps the exec.
    const old = c.up.proc;
    const gone = new Promise<void>((r) => old.once("exit", () => r()));
    old.kill("SIGKILL");
    await gone;
    expect(await exited).not.toBe(0);
    expect((await processes()).some((p) => p.includes("sleep 5678"))).toBe(true);
    // This test's NATS server outlives it: the dead agent's sessions unsubscribed with its connection.
    await waitFor(async () => (await streamSubs()).length === 0, "no stream subscription of the dead cluster", 20_000, 100);
    c.up = await berthUp("node", c.home, ["--nodes", "1", "--nats", nats.url], 120_000);
    await waitFor(async () => !(await processes()).some((p) => p.includes("sleep 5678")), "the left-behind sleep to be killed by the new agent", 30_000, 250);
    const logs = readdirSync(join(c.home, "logs")).map((f) => readFileSync(join(c.home, "logs", f), "utf8")).join("\n") + c.up.output();
    expect(logs).toContain("killed streaming execs left by a previous agent");
  }, 240_000);
});
