/**
 * A real nats-server per test file: started on a free loopback port with a temporary JetStream
 * directory, stopped afterwards. If nats-server is missing the test fails loudly (run
 * `npm run setup`), it never skips.
 */
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";

export interface TestNats {
  server: NatsServerHandle;
  nc: NatsConnection;
  url: string;
  stop(): Promise<void>;
}

export async function startTestNats(): Promise<TestNats> {
  const server = await startNatsServer();
  const nc = await connectNats({ servers: server.url, name: "berth-test" });
  return {
    server,
    nc,
    url: server.url,
    async stop() {
      await nc.close().catch(() => {});
      await server.stop();
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes (then throws with `what`). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
