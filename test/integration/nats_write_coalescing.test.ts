/**
 * The NATS connection's transport sends what the client writes in one turn of the event loop in
 * one socket write (runtime/nats/coalescing_transport.ts): fifty publishes made by
 * fifty separate timer callbacks of one turn leave together, in order, and arrive; closing the
 * connection does not drop what the closing turn wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "node:net";
import { CoalescingTransport } from "../../runtime/nats/coalescing_transport.ts";
import { connectNats } from "../../runtime/nats/connection.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

let t: TestNats;
beforeAll(async () => {
  t = await startTestNats();
});
afterAll(async () => {
  await t?.stop();
});

/** The connection's current transport (the client's internals: there is no public accessor). */
function transportOf(nc: TestNats["nc"]): { socket: Socket } {
  return (nc as unknown as { protocol: { transport: { socket: Socket } } }).protocol.transport;
}

describe("NATS write coalescing", () => {
  it("publishes from separate callbacks of one event-loop turn leave in one socket write, in order", async () => {
    const transport = transportOf(t.nc);
    expect(transport).toBeInstanceOf(CoalescingTransport);
    const got: string[] = [];
    const sub = t.nc.subscribe("coalesce.test", { callback: (_e, m) => void got.push(m.string()) });
    await t.nc.flush();

    // Count the socket's writes (a corked socket hands its buffered chunks to _writev at once).
    const socket = transport.socket as Socket & { _write: (...a: unknown[]) => unknown; _writev?: (...a: unknown[]) => unknown };
    let writes = 0;
    const write = socket._write;
    const writev = socket._writev;
    socket._write = function (this: Socket, ...a: unknown[]) {
      writes++;
      return write.apply(this, a);
    };
    if (writev) {
      socket._writev = function (this: Socket, ...a: unknown[]) {
        writes++;
        return writev.apply(this, a);
      };
    }
    try {
      // Fifty timers due at once run in one timers phase, each its own task with a microtask
      // checkpoint after it: the client's own flush alone would write once per timer.
      for (let i = 0; i < 50; i++) setTimeout(() => t.nc.publish("coalesce.test", String(i)), 0);
      await waitFor(() => got.length === 50, "all fifty messages back");
    } finally {
      socket._write = write;
      if (writev) socket._writev = writev;
      sub.unsubscribe();
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(writes, "socket writes for fifty publishes made in one turn").toBeLessThanOrEqual(3);
  });

  it("what was published in the turn that closes the connection is still sent (close does not drop the corked writes)", async () => {
    const got: string[] = [];
    const sub = t.nc.subscribe("coalesce.last", { callback: (_e, m) => void got.push(m.string()) });
    await t.nc.flush();
    const other = await connectNats({ servers: t.url, name: "closing" });
    other.publish("coalesce.last", "before close");
    await Promise.resolve();
    await other.close();
    await waitFor(() => got.length === 1, "the message published just before close");
    expect(got).toEqual(["before close"]);
    sub.unsubscribe();
  });

  it("a request answered in the same process still completes (the corked write is sent at the end of the turn)", async () => {
    const sub = t.nc.subscribe("coalesce.echo", { callback: (_e, m) => void m.respond(`echo ${m.string()}`) });
    await t.nc.flush();
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => t.nc.request("coalesce.echo", String(i), { timeout: 5_000 })));
    expect(replies.map((r) => r.string())).toEqual(Array.from({ length: 20 }, (_, i) => `echo ${i}`));
    sub.unsubscribe();
  });
});
