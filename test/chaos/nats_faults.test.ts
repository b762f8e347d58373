/**
 * NATS faults on a real nats-server with JetStream on disk: a restart keeps KV data and a
 * client with unlimited reconnects resumes; a pause makes requests time out and resume heals.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { NatsControl } from "../../runtime/chaos/nats_control.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";
import { waitFor } from "../helpers/nats.ts";

describe("NATS faults", () => {
  let dir: string;
  let nats: NatsControl;
  let nc: NatsConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-chaos-nats-"));
    nats = await NatsControl.start(dir);
    nc = await connectNats({ servers: nats.url, name: "chaos-test" });
  });
  afterAll(async () => {
    await nats?.heal().catch(() => {});
    await nc?.close().catch(() => {});
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("restart: the server comes back on the same port, KV data survives, the client reconnects", async () => {
    const kv = await new Kvm(jetstream(nc)).create("chaos", { history: 1 });
    await kv.put("k", "before");
    const pid = nats.pid;
    await nats.down();
    expect(nats.running).toBe(false);
    await expect(kv.put("k", "during")).rejects.toThrow();
    await nats.heal();
    expect(nats.pid).not.toBe(pid);
    await waitFor(async () => (await kv.get("k"))?.string() === "before", "the value written before the restart", 15_000, 100);
    await kv.put("k", "after");
    expect((await kv.get("k"))?.string()).toBe("after");
  });

  it("pause: requests time out while the process is stopped, and work again after resume", async () => {
    const sub = nc.subscribe("echo");
    void (async () => {
      for await (const m of sub) m.respond(m.data);
    })();
    expect((await nc.request("echo", "1", { timeout: 2000 })).string()).toBe("1");
    nats.pause();
    nats.pause(); // idempotent
    await expect(nc.request("echo", "2", { timeout: 500 })).rejects.toThrow();
    nats.resume();
    await waitFor(async () => (await nc.request("echo", "3", { timeout: 1000 })).string() === "3", "echo after resume", 15_000, 100);
    sub.unsubscribe();
  });
});
