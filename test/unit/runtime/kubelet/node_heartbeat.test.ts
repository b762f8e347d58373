import { describe, expect, it, vi } from "vitest";
import * as os from "node:os";

// Counts the machine-info reads (os.cpus parses /proc/cpuinfo); everything else is the real module.
vi.mock("node:os", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:os")>();
  return { ...real, cpus: vi.fn(real.cpus) };
});
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

  it("node heartbeat - the host's facts are read from the OS once, not at every heartbeat; the runtime's version every time", async () => {
    const f = fakeNodeClient();
    let versions = 0;
    const counted = { ...runtime, version: async () => `hollow://${++versions}` } as unknown as ContainerRuntime;
    const hb = nodeHeartbeat({ client: f.client, runtime: counted, name: "n1", advertiseAddress: "127.0.0.1" });
    const before = vi.mocked(os.cpus).mock.calls.length;
    for (let i = 0; i < 4; i++) await hb.heartbeat();
    expect(vi.mocked(os.cpus).mock.calls.length - before).toBeLessThanOrEqual(1);
    expect(f.stored.status?.capacity?.cpu).toBe(String(os.cpus().length));
    expect(f.stored.status?.nodeInfo?.containerRuntimeVersion).toBe("hollow://4");
  });
});
