/**
 * A real API for integration tests: a private nats-server (JetStream on a temp dir), the KV
 * store, the in-process `Api`, and the NATS transport serving it. `api` is the in-process
 * client; `remote` is a `NatsApiClient` going through NATS like a node agent or the CLI would.
 */
import { Api } from "../../runtime/api/api.ts";
import type { ApiClient } from "../../model/client.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import type { NatsConnection } from "../../runtime/nats/connection.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { startTestNats } from "./nats.ts";
import type { ServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";
import { expect, vi } from "vitest";
import { ApiError } from "../../model/errors.ts";

export { waitFor } from "./nats.ts";

export interface TestApi {
  api: ApiClient;
  /** The same API reached over NATS request/reply. */
  remote: ApiClient;
  /** The concrete in-process Api (for store access in tests). */
  impl: Api;
  store: KvStore;
  natsUrl: string;
  nc: NatsConnection;
  server: NatsApiServer;
  stop(): Promise<void>;
}

/** `tokens`: the ServiceAccount token issuer of the Api (TokenRequest); none by default. */
export async function startTestApi(opts: { tokens?: ServiceAccountTokens } = {}): Promise<TestApi> {
  const nats = await startTestNats();
  const store = await KvStore.open(nats.nc);
  const impl = await Api.open(store, { tokens: opts.tokens });
  const server = serveApiOverNats(nats.nc, impl);
  await server.ready;
  const remote = new NatsApiClient(nats.nc);
  const t: TestApi = {
    api: impl,
    remote,
    impl,
    store,
    natsUrl: nats.url,
    nc: nats.nc,
    server,
    async stop() {
      await t.server.stop(); // the one serving now (a test may have replaced it)
      impl.close();
      await nats.stop();
    },
  };
  return t;
}

/** Store reads (`get` and `tryGet`) made while `fn` runs. */
export async function storeReads(store: KvStore, fn: () => Promise<unknown>): Promise<number> {
  const get = vi.spyOn(store, "get");
  const tryGet = vi.spyOn(store, "tryGet");
  try {
    await fn();
    return get.mock.calls.length + tryGet.mock.calls.length;
  } finally {
    get.mockRestore();
    tryGet.mockRestore();
  }
}

/** Entries read from the bucket while `fn` runs: every store read, also the ones inside a write. */
export async function entryReads(store: KvStore, fn: () => Promise<unknown>): Promise<number> {
  const get = vi.spyOn((store as unknown as { kv: { get: (k: string) => Promise<unknown> } }).kv, "get");
  try {
    await fn();
    return get.mock.calls.length;
  } finally {
    get.mockRestore();
  }
}

/** Awaits a call the API must refuse as Invalid (422); returns the error for its message. */
export async function expectInvalid(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).reason).toBe("Invalid");
  return e as ApiError;
}
