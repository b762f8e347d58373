/**
 * kubectl 1.32's streaming verbs against the REST API, with the node side played by this test
 * over a real nats-server: each session's node end is a real `StreamSession`, bridged by the
 * node agent's own code (`bridgeProcess`, `bridgeSocket`) to a local `sh` process or a local
 * TCP server. So the WebSocket channel protocol (v5), kubectl's SPDY-over-WebSocket port-forward,
 * the NATS framing and flow control are all exercised without Docker; test/e2e/streaming.test.ts
 * does the same against containers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { nuid } from "@nats-io/nats-core";
import WebSocket from "ws";
import { waitFor } from "../helpers/api.ts";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import type { ExecStream, LogChunk } from "../../model/container_runtime.ts";
import { bridgeProcess, bridgeSocket } from "../../runtime/kubelet/stream_service.ts";
import { resolveStreamTarget, type StreamProvider } from "../../runtime/stream/open.ts";
import { StreamSession } from "../../runtime/stream/session.ts";

let h: RestHarness;
let web: Server;
let webPort = 0;
const nodeSessions = new Set<StreamSession>();

/** An ExecStream over a local child process (what Docker's hijacked exec is to the node agent). */
function localProcess(cmd: string[]): ExecStream {
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let listener: (c: LogChunk) => void = () => {};
  child.stdout.on("data", (d: Buffer) => listener({ stream: "stdout", data: new Uint8Array(d) }));
  child.stderr.on("data", (d: Buffer) => listener({ stream: "stderr", data: new Uint8Array(d) }));
  const exited = new Promise<number>((r) => child.on("close", (code) => r(code ?? 137)));
  return {
    onOutput: (fn) => void (listener = fn),
    pause: () => {
      child.stdout.pause();
      child.stderr.pause();
    },
    resume: () => {
      child.stdout.resume();
      child.stderr.resume();
    },
    write: (d) => new Promise((r) => child.stdin.write(d, () => r())),
    closeStdin: () => child.stdin.end(),
    resize: async () => {},
    exited,
    kill: async () => void child.kill("SIGKILL"),
  };
}

/** Plays the node: a session pair on one connection, the node end bridged locally. */
function provider(): StreamProvider {
  return {
    check: (req) => resolveStreamTarget(h.test.api, req),
    async open(_pod, req) {
      const id = nuid.next();
      const up = `berth.node.local.streamio.${id}.up`;
      const down = `berth.node.local.streamio.${id}.down`;
      const node = new StreamSession(h.test.nc, { sendSubject: down, recvSubject: up, window: 64 * 1024 });
      nodeSessions.add(node);
      void node.done.then(() => nodeSessions.delete(node));
      const client = new StreamSession(h.test.nc, { sendSubject: up, recvSubject: down, window: 64 * 1024 });
      if (req.kind === "portforward") {
        const sock = connect({ host: "127.0.0.1", port: req.port! });
        await new Promise<void>((resolve, reject) => {
          sock.once("connect", () => resolve());
          sock.once("error", reject);
        }).catch((e) => {
          node.end("refused");
          client.end("refused");
          throw e;
        });
        bridgeSocket(node, sock, `error forwarding port ${req.port}`);
      } else {
        bridgeProcess(node, localProcess(req.command!), req.command);
      }
      return client;
    },
  };
}

beforeAll(async () => {
  h = await startRestHarness({ streams: { check: (r) => provider().check(r), open: (p, r) => provider().open(p, r) } });
  const created = await h.test.api.create("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "box", namespace: "default" },
    spec: { nodeName: "local", containers: [{ name: "main", image: "berth/busybox:latest" }] },
  });
  await h.test.api.updateStatus("pods", { ...created, status: { phase: "Running", podIP: "127.0.0.1" } });
  web = createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => web.listen(0, "127.0.0.1", () => r()));
  webPort = (web.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  web?.close();
  await h?.stop();
});

describe("kubectl exec/port-forward against the REST API (node side played locally over NATS)", () => {
  it("kubectl exec prints stdout and stderr and exits with the command's code", async () => {
    const r = await h.kubectl(["exec", "box", "--", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toContain("err\n");
    expect(r.code).toBe(7);
  });

  it("kubectl exec -i sends stdin and its end (v5 close signal) to the process", async () => {
    const data = "x".repeat(300_000) + "\nend\n";
    const r = await h.kubectl(["exec", "-i", "box", "--", "wc", "-c"], { stdin: data });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(String(data.length));
    expect(r.code).toBe(0);
  });

  it("a missing pod is a 404 naming it, a missing container a 400 naming both", async () => {
    const a = await h.kubectl(["exec", "nope", "--", "true"]);
    expect(a.stderr).toContain(`pods "nope" not found`);
    expect(a.code).toBe(1);
    const b = await h.kubectl(["exec", "box", "-c", "zz", "--", "true"]);
    expect(b.stderr).toContain("container zz is not valid for pod box");
    expect(b.code).toBe(1);
  });

  it("kubectl port-forward carries HTTP requests to the pod's port, and the sessions end with the connections", async () => {
    const pf = h.spawnKubectl(["port-forward", "pod/box", `0:${webPort}`]);
    let out = "";
    pf.stdout!.on("data", (d) => (out += d));
    pf.stderr!.on("data", (d) => (out += d));
    try {
      const local = Number((await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out), "kubectl to listen", 15_000).catch((e) => {
        throw new Error(`${(e as Error).message}; kubectl said: ${out}`);
      }))[1]);
      for (const path of ["/a", "/b"]) {
        const res = await fetch(`http://127.0.0.1:${local}${path}`, { headers: { connection: "close" } });
        expect(await res.text()).toBe(`hello ${path}`);
      }
      await waitFor(() => nodeSessions.size === 0, "the node-side sessions to end");
    } catch (e) {
      throw new Error(`${(e as Error).message}; kubectl said: ${out}`);
    } finally {
      pf.kill("SIGINT");
    }
  });

  it("exec over WebSocket v4.channel.k8s.io (no v5 offered): stdout and stderr channels, the exit code in the channel-3 Status", async () => {
    const q = ["sh", "-c", "echo out; echo err >&2; exit 6"].map((c) => `command=${encodeURIComponent(c)}`).join("&");
    const url = `${h.http.url.replace(/^http/, "ws")}/api/v1/namespaces/default/pods/box/exec?${q}&stdout=true&stderr=true`;
    const ws = new WebSocket(url, ["v4.channel.k8s.io"], { ca: h.caPem, headers: { authorization: `Bearer ${h.token}` } });
    const got: Record<number, string> = {};
    const closed = new Promise<void>((resolve, reject) => {
      ws.on("message", (d: Buffer) => (got[d[0]] = (got[d[0]] ?? "") + d.subarray(1).toString()));
      ws.on("close", () => resolve());
      ws.on("error", reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe("v4.channel.k8s.io");
    await closed;
    expect([got[1], got[2]]).toEqual(["out\n", "err\n"]);
    expect(JSON.parse(got[3])).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "6" }] } });
  });

  it("kubectl port-forward over its SPDY fallback (a plain SPDY/3.1 upgrade) carries HTTP too", async () => {
    const pf = spawn("kubectl", ["--kubeconfig", h.kubeconfig, "port-forward", "pod/box", `0:${webPort}`], {
      env: { ...process.env, HOME: h.dir, KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    pf.stdout!.on("data", (d) => (out += d));
    pf.stderr!.on("data", (d) => (out += d));
    try {
      const local = Number((await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out), "kubectl to listen", 15_000))[1]);
      const res = await fetch(`http://127.0.0.1:${local}/spdy`, { headers: { connection: "close" } });
      expect(await res.text()).toBe("hello /spdy");
      await waitFor(() => nodeSessions.size === 0, "the node-side session to end");
    } catch (e) {
      throw new Error(`${(e as Error).message}; kubectl said: ${out}`);
    } finally {
      pf.kill("SIGINT");
    }
  });

  it("client-node PortForward (WebSocket v4 channels: port prefix, data and error channels) reaches the port", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(h.kubeconfig);
    const output = new PassThrough();
    const input = new PassThrough();
    let got = "";
    output.on("data", (d) => (got += d));
    const ws = (await new k8s.PortForward(kc).portForward("default", "box", [webPort], output, null, input)) as { close(): void };
    input.write("GET /pf HTTP/1.0\r\n\r\n");
    await waitFor(() => got.includes("hello /pf"), "the HTTP answer through client-node's port-forward");
    ws.close();
    await waitFor(() => nodeSessions.size === 0, "the node-side session to end");
  });
});
