/**
 * Metrics: one prom-client registry per component (no collisions in one process), Kubernetes'
 * names at the measurement points, and output `promtool check metrics` accepts.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ComponentMetrics } from "../../../../runtime/metrics/registry.ts";
import { requestMetrics, requestVerb } from "../../../../runtime/metrics/apiserver.ts";
import { instrumentStore } from "../../../../runtime/metrics/store.ts";
import { loopMetrics, loopKind } from "../../../../actors/work_loop_metrics.ts";
import { startWorkLoop } from "../../../../actors/work_loop.ts";
import { parseRoute } from "../../../../runtime/http/routes.ts";
import { instrumentRuntime, podMetrics } from "../../../../runtime/kubelet/kubelet_metrics.ts";
import { HollowRuntime } from "../../../../runtime/containers/hollow.ts";
import { parseListenAddress } from "../../../../runtime/metrics/http_server.ts";

function promtool(text: string): string {
  try {
    return execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool check metrics failed: ${x.stdout}${x.stderr}`);
  }
}

describe("component metrics", () => {
  it("registries - two components in one process each have their own metric of the same name", async () => {
    const a = new ComponentMetrics("node-1");
    const b = new ComponentMetrics("node-2");
    a.counter("kubelet_x_total", "x").inc();
    b.counter("kubelet_x_total", "x").inc(undefined, 5);
    expect(await a.text()).toMatch(/^kubelet_x_total 1$/m);
    expect(await b.text()).toMatch(/^kubelet_x_total 5$/m);
  });

  it("registries - asking for a name again returns the same metric; other labels are a programming error", () => {
    const m = new ComponentMetrics("c");
    m.counter("a_total", "a", ["x"]).inc({ x: "1" });
    m.counter("a_total", "a", ["x"]).inc({ x: "1" });
    expect(() => m.gauge("a_total", "a", ["x"])).toThrow(/is a counter/);
    expect(() => m.counter("a_total", "a", ["y"])).toThrow(/labels/);
  });

  it("promtool - the process metrics and every kind pass `promtool check metrics`", async () => {
    const m = new ComponentMetrics("api", { processMetrics: true });
    const r = requestMetrics(m);
    r.begin("GET", parseRoute("/api/v1/pods"), "/api/v1/pods", new URLSearchParams())(200);
    m.histogram("berth_x_duration_seconds", "x", ["op"]).observe({ op: "get" }, 0.2);
    m.gauge("berth_y", "y", [], (g) => g.set(undefined, 3));
    const text = await m.text();
    expect(text).toMatch(/^berth_y 3$/m);
    promtool(text);
  });

  it("apiserver - verbs as kube-apiserver names them, and in-flight/watcher gauges that return to zero", async () => {
    const q = new URLSearchParams();
    expect(requestVerb("GET", parseRoute("/api/v1/namespaces/d/pods"), q)).toBe("LIST");
    expect(requestVerb("GET", parseRoute("/api/v1/namespaces/d/pods/p"), q)).toBe("GET");
    expect(requestVerb("GET", parseRoute("/api/v1/pods"), new URLSearchParams("watch=true"))).toBe("WATCH");
    expect(requestVerb("POST", parseRoute("/api/v1/namespaces/d/pods"), q)).toBe("POST");
    const m = new ComponentMetrics("api");
    const r = requestMetrics(m);
    const end = r.begin("GET", parseRoute("/api/v1/pods"), "/api/v1/pods", new URLSearchParams("watch=1"));
    expect(await m.text()).toMatch(/^apiserver_registered_watchers\{resource="pods"\} 1$/m);
    expect(await m.text()).toMatch(/^apiserver_current_inflight_requests\{request_kind="readOnly"\} 1$/m);
    end(200);
    end(200); // a second end (close after finish) counts once
    const text = await m.text();
    expect(text).toMatch(/^apiserver_registered_watchers\{resource="pods"\} 0$/m);
    expect(text).toMatch(/^apiserver_current_inflight_requests\{request_kind="readOnly"\} 0$/m);
    expect(text).toMatch(/^apiserver_request_total\{verb="WATCH",resource="pods",code="200"\} 1$/m);
    // Unknown paths do not become label values.
    r.begin("GET", parseRoute("/nonsense/abc"), "/nonsense/abc", q)(404);
    expect(await m.text()).toMatch(/resource="unknown",code="404"/);
  });

  it("store - each operation timed and counted by result", async () => {
    const m = new ComponentMetrics("api");
    const store = instrumentStore({ async get(x: number) { if (x < 0) throw Object.assign(new Error("no"), { name: "NotFoundError" }); return x; } }, m);
    expect(await store.get(1)).toBe(1);
    await expect(store.get(-1)).rejects.toThrow("no");
    const text = await m.text();
    expect(text).toMatch(/^berth_store_requests_total\{op="get",result="ok"\} 1$/m);
    expect(text).toMatch(/^berth_store_requests_total\{op="get",result="not_found"\} 1$/m);
    expect(text).toMatch(/^berth_store_request_duration_seconds_count\{op="get"\} 2$/m);
  });

  it("store - a method that throws before its promise still answers a rejected promise, counted as an error", async () => {
    const m = new ComponentMetrics("api");
    const store = instrumentStore({ update(): Promise<number> { throw new Error("bad call"); } }, m);
    const p = store.update();
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow("bad call");
    const text = await m.text();
    expect(text).toMatch(/^berth_store_requests_total\{op="update",result="error"\} 1$/m);
    expect(text).toMatch(/^berth_store_request_duration_seconds_count\{op="update"\} 1$/m);
  });

  it("work loops - adds, depth while a pass runs, retries; rc/<key> loops share one bounded label", async () => {
    expect(loopKind("rc/default/web")).toBe("replicationcontroller");
    expect(loopKind("scheduler")).toBe("scheduler");
    const m = new ComponentMetrics("control-plane");
    let release!: () => void;
    let calls = 0;
    const loop = startWorkLoop("rc/default/web", async () => {
      calls++;
      if (calls === 2) throw new Error("boom");
      if (calls === 3) await new Promise<void>((r) => (release = r));
    }, () => {}, { metrics: m });
    const text = () => m.text();
    await until(() => calls === 1 && loop.actor.getSnapshot().value === "idle");
    loop.wake(); // pass 2 fails → backoff → pass 3 blocks
    await until(() => calls === 3);
    loop.wake(); // arrives while working: waits
    expect(await text()).toMatch(/^workqueue_depth\{name="replicationcontroller"\} 1$/m);
    release();
    await until(() => calls === 4);
    expect(await text()).toMatch(/^workqueue_depth\{name="replicationcontroller"\} 0$/m);
    expect(await text()).toMatch(/^workqueue_adds_total\{name="replicationcontroller"\} 2$/m);
    expect(await text()).toMatch(/^workqueue_retries_total\{name="replicationcontroller"\} 1$/m);
    loop.stop();
    void loopMetrics;
  });

  it("kubelet - runtime operations by type (errors too) and pod start once per pod", async () => {
    const m = new ComponentMetrics("node-1");
    const rt = instrumentRuntime(new HollowRuntime(), m);
    await rt.ping();
    await expect(rt.inspectContainer("absent")).rejects.toThrow();
    const pods = podMetrics(m);
    pods.seen("d/p");
    pods.phase("d/p", "Pending");
    pods.phase("d/p", "Running");
    pods.phase("d/p", "Failed");
    pods.phase("d/p", "Running"); // a restart: no second start
    const text = await m.text();
    expect(text).toMatch(/^kubelet_runtime_operations_total\{operation_type="ping"\} 1$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_errors_total\{operation_type="inspect_container"\} 1$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_count 1$/m);
    expect(text).toMatch(/^kubelet_running_pods 1$/m);
    pods.gone("d/p");
    expect(await m.text()).toMatch(/^kubelet_running_pods 0$/m);
    promtool(await m.text());
  });

  it("listen address - HOST:PORT, IPv6 in brackets; anything else is a clear error", () => {
    expect(parseListenAddress("127.0.0.1:9101")).toEqual({ host: "127.0.0.1", port: 9101 });
    expect(parseListenAddress("[::1]:0")).toEqual({ host: "::1", port: 0 });
    expect(() => parseListenAddress("9101")).toThrow(/HOST:PORT/);
    expect(() => parseListenAddress("a:70000")).toThrow(/HOST:PORT/);
  });
});

async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
