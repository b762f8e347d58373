/**
 * A nats-server that fails to start leaves nothing behind in this process: the chaos harness
 * retries NATS on a port that may still be held, and each failed attempt used to leave a
 * process `exit` listener, until Node printed MaxListenersExceededWarning during chaos runs.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer } from "../../runtime/nats/server.ts";

describe("nats-server child", () => {
  let held: Server;
  let port: number;
  beforeAll(async () => {
    held = createServer();
    await new Promise<void>((r) => held.listen(0, "127.0.0.1", () => r()));
    port = (held.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => held.close(() => r())));

  it("failed starts - twelve starts on a held port fail clearly and add no exit listener", async () => {
    const before = process.listenerCount("exit");
    for (let i = 0; i < 12; i++) {
      await expect(startNatsServer({ port, host: "127.0.0.1" })).rejects.toThrow(/nats-server/);
    }
    expect(process.listenerCount("exit")).toBe(before);
  });
});
