import { describe, expect, it } from "vitest";
import { nodeHeartbeat } from "../../../../runtime/kubelet/node_heartbeat.ts";
import { ConflictError } from "../../../../model/errors.ts";
import type { ApiClient } from "../../../../model/client.ts";
import type { ContainerRuntime } from "../../../../model/container_runtime.ts";
import type { Node } from "../../../../model/types.ts";

/** A client holding one Node, with compare-and-swap on its resourceVersion, counting reads. */
function fakeNodeClient() {
  let stored: Node = { apiVersion: "v1", kind: "Node", metadata: { name: "n1", resourceVersion: "1" }, spec: {}, status: {} } as Node;
  let rv = 1;
  const calls = { get: 0, updateStatus: 0 };
  const client = {
    async get() {
      calls.get++;
      return structuredClone(stored);
    },
    async updateStatus(_r: string, obj: Node) {
      calls.updateStatus++;
      if (obj.metadata.resourceVersion !== stored.metadata.resourceVersion) throw new ConflictError("nodes", "n1");
      stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      return structuredClone(stored);
    },
  } as unknown as ApiClient;
  return {
    client,
    calls,
    /** Someone else (a label change, the lifecycle controller) writes the Node. */
    otherWrite() {
      stored = { ...stored, metadata: { ...stored.metadata, labels: { x: "y" }, resourceVersion: String(++rv) } };
    },
    get stored() {
      return stored;
    },
  };
}

const runtime = { kind: "hollow", ping: async () => {}, version: async () => "hollow://1" } as unknown as ContainerRuntime;

describe("node heartbeat", () => {
  it("node heartbeat - after the first, a heartbeat is one request: it starts from the Node its last write returned", async () => {
    const f = fakeNodeClient();
    const hb = nodeHeartbeat({ client: f.client, runtime, name: "n1", advertiseAddress: "127.0.0.1" });
    for (let i = 0; i < 5; i++) await hb.heartbeat();
    expect(f.calls).toEqual({ get: 1, updateStatus: 5 });
    expect(f.stored.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("node heartbeat - a Node someone else changed meanwhile costs a conflict and a read, and keeps their change", async () => {
    const f = fakeNodeClient();
    const hb = nodeHeartbeat({ client: f.client, runtime, name: "n1", advertiseAddress: "127.0.0.1" });
    await hb.heartbeat();
    f.otherWrite();
    await hb.heartbeat();
    expect(f.calls).toEqual({ get: 2, updateStatus: 3 });
    expect(f.stored.metadata.labels).toEqual({ x: "y" });
  });
});
