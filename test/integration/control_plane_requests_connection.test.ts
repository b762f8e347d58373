/**
 * The control plane serves the API's requests on a NATS connection of its own, apart from the
 * store's (KV round trips, the watch cache's feed, the leader lease): under a density run's
 * flood of node requests, replies to the store no longer queue behind requests on one socket.
 * Real nats-server; the control plane host as `berth control-plane` starts it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlaneHost, type ControlPlaneHost } from "../../runtime/control_plane_host.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

describe("control plane requests connection", () => {
  let nats: TestNats;
  let requestsNc: NatsConnection;
  let clientNc: NatsConnection;
  let host: ControlPlaneHost;
  beforeAll(async () => {
    nats = await startTestNats();
    requestsNc = await connectNats({ servers: nats.url, name: "berth-test-api" });
    clientNc = await connectNats({ servers: nats.url, name: "berth-test-client" });
    host = await startControlPlaneHost({ nc: nats.nc, requestsNc, leaseTtlMs: 15_000, leaseRenewMs: 2_000 });
    await waitFor(() => host.leading, "the host leads", 30_000);
  });
  afterAll(async () => {
    await host?.stop();
    await clientNc?.close().catch(() => {});
    await requestsNc?.close().catch(() => {});
    await nats?.stop();
  });

  it("control plane requests connection - API requests arrive on the requests connection, and are served", async () => {
    const client = new NatsApiClient(clientNc);
    const before = requestsNc.stats().inMsgs;
    for (let i = 0; i < 5; i++) {
      await client.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `rq-${i}` }, data: { i: String(i) } }, "default");
    }
    expect((await client.get("configmaps", "rq-4", "default")).data).toEqual({ i: "4" });
    expect(requestsNc.stats().inMsgs - before).toBeGreaterThanOrEqual(6);
    // … and the store's writes went out on the store connection, not this one.
    expect((await host.store.get("configmaps", "default", "rq-0")).data).toEqual({ i: "0" });
  });
});
