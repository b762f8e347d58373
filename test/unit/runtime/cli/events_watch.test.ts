/** `berth events -w`: lists, then prints new events as they happen, under the same columns. */
import { describe, expect, it } from "vitest";
import { extraCommands } from "../../../../runtime/cli/extra.ts";
import { parseArgs } from "../../../../runtime/cli/args.ts";
import type { ApiClient } from "../../../../model/client.ts";

const event = (name: string, reason: string, message: string) => ({
  apiVersion: "v1", kind: "Event",
  metadata: { name, namespace: "default", creationTimestamp: "2026-12-02T00:00:00Z" },
  involvedObject: { kind: "Pod", name: "web-1", namespace: "default" },
  reason, message, type: "Normal", count: 1, lastTimestamp: "2026-12-02T00:00:00Z", source: { component: "kubelet" },
});

describe("berth events -w", () => {
  it("prints the listed events, then each new one in the same columns", async () => {
    const client = {
      async list() {
        return { metadata: { resourceVersion: "9" }, items: [event("e1", "Scheduled", "Successfully assigned default/web-1 to node-1")] };
      },
      async watch(_r: string, o: { resourceVersion?: string }) {
        expect(o.resourceVersion).toBe("9");
        return { stop() {}, async *[Symbol.asyncIterator]() { yield { type: "ADDED", object: event("e2", "Started", "Started container c") }; } };
      },
    } as unknown as ApiClient;
    let s = "";
    const cmds = extraCommands([], (x) => void (s += x), () => {}, (async (_f: unknown, fn: (c: ApiClient) => Promise<unknown>) => fn(client)) as never);
    await cmds.events.run(parseArgs(["-w"], cmds.events.flags));
    const lines = s.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain("Started container c");
    const reasonCol = lines[0].indexOf("REASON");
    expect(reasonCol).toBeGreaterThan(0);
    expect(lines[1].indexOf("Scheduled")).toBe(reasonCol);
    expect(lines[2].indexOf("Started")).toBe(reasonCol);
  });
});
