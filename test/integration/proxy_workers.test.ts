/**
 * The TCP proxy with worker processes (runtime/proxy/worker_pool.ts): more than one process
 * accepts on the listener, endpoint updates reach the workers, their counters join `stats`, and
 * stopping the last proxy leaves no process behind.
 */
import { afterEach, describe, expect, it } from "vitest";
import net from "node:net";
import { TcpProxy } from "../../runtime/proxy/tcp_proxy.ts";
import type { StatsDelta } from "../../runtime/proxy/worker_pool.ts";
import { waitFor } from "../helpers/nats.ts";

async function nameServer(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns.add(s);
    s.on("close", () => conns.delete(s));
    s.end(name);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const c of conns) c.destroy();
      }),
  };
}

function fetchOnce(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    // A reply never comes only if a connection was lost between processes: fail, do not hang.
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error("no reply within 3 s"));
    }, 3000);
    s.on("data", (d) => (data += d));
    s.on("end", () => {
      clearTimeout(t);
      resolve(data);
    });
    s.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Counts what the workers report, through the proxy's own hook. */
function countWorkerForwards(proxy: TcpProxy): { forwarded: number } {
  const seen = { forwarded: 0 };
  const orig = proxy.workerStats.bind(proxy);
  proxy.workerStats = (w: number, d: StatsDelta) => {
    seen.forwarded += d.forwarded;
    orig(w, d);
  };
  return seen;
}

describe("TCP proxy with worker processes", () => {
  it("serves from more than one process, follows endpoint updates, and leaves no process after stop", async () => {
    const a = await nameServer("a");
    const b = await nameServer("b");
    cleanups.push(a.close, b.close);
    const proxy = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "workers", workers: 1 });
    proxy.setEndpoints([{ host: "127.0.0.1", port: a.port }]);
    const [addr] = await proxy.start();
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await proxy.stop();
    });
    const [pid] = proxy.workerPids;
    expect(pid).toBeGreaterThan(0);
    const fromWorkers = countWorkerForwards(proxy);

    // Until the worker has loaded, this process serves everything; then both do.
    let sent = 0;
    const wrong: string[] = [];
    await waitFor(
      async () => {
        const got = await Promise.allSettled(Array.from({ length: 20 }, () => fetchOnce(addr.port)));
        sent += got.length;
        for (const g of got) if (g.status === "rejected" || g.value !== "a") wrong.push(g.status === "rejected" ? String(g.reason) : g.value);
        return fromWorkers.forwarded > 0;
      },
      "a connection forwarded by the worker process",
      20_000,
      50,
    );
    expect(wrong).toEqual([]);
    await waitFor(() => proxy.stats.forwarded === sent && proxy.stats.active === 0, "the workers' counters to join stats", 5000);
    expect(proxy.stats.perEndpoint["127.0.0.1:" + a.port]).toBe(sent);

    proxy.setEndpoints([{ host: "127.0.0.1", port: b.port }]);
    // An update reaches the worker within one IPC message: after that, every connection goes to b.
    await waitFor(async () => (await Promise.all(Array.from({ length: 20 }, () => fetchOnce(addr.port)))).every((g) => g === "b"), "every process to use the new endpoint", 5000);
    const before = fromWorkers.forwarded;
    await waitFor(async () => {
      const got = await Promise.all(Array.from({ length: 20 }, () => fetchOnce(addr.port)));
      expect(got.every((g) => g === "b")).toBe(true);
      return fromWorkers.forwarded > before;
    }, "the worker to forward to the new endpoint", 5000);

    await proxy.stop();
    stopped = true;
    await waitFor(() => !alive(pid), "the worker process to exit", 10_000);
    await expect(fetchOnce(addr.port)).rejects.toThrow();
  });

  it("keeps a proxy with ClientIP affinity on this thread (one table of pins)", async () => {
    const a = await nameServer("a");
    cleanups.push(a.close);
    const proxy = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "affinity", workers: 1, affinityTimeoutSeconds: 60 });
    proxy.setEndpoints([{ host: "127.0.0.1", port: a.port }]);
    const [addr] = await proxy.start();
    cleanups.push(() => proxy.stop());
    expect(proxy.workerPids).toEqual([]);
    expect(await fetchOnce(addr.port)).toBe("a");
  });
});
