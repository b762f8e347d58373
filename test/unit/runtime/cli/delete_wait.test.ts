/** `berth delete` waits, as kubectl does by default, until the deleted objects are gone; --wait=false does not. */
import { describe, expect, it } from "vitest";
import { deleteCmd } from "../../../../runtime/cli/verbs.ts";
import type { ApiClient } from "../../../../model/client.ts";

/** One pod that, once deleted, stays (terminating) until `finish()`; watches see it go then. */
function fakeClient() {
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", uid: "u1", resourceVersion: "5" } };
  let present = true;
  const listeners: ((ev: unknown) => void)[] = [];
  const client = {
    async delete() {
      return { ...pod, metadata: { ...pod.metadata, deletionTimestamp: "now" } };
    },
    async list() {
      return { metadata: { resourceVersion: "6" }, items: present ? [pod] : [] };
    },
    async watch() {
      const queue: unknown[] = [];
      let wake: (() => void) | undefined;
      let stopped = false;
      listeners.push((ev) => {
        queue.push(ev);
        wake?.();
      });
      return {
        stop() {
          stopped = true;
          wake?.();
        },
        async *[Symbol.asyncIterator]() {
          while (!stopped) {
            if (queue.length) yield queue.shift();
            else await new Promise<void>((r) => (wake = r));
          }
        },
      };
    },
  } as unknown as ApiClient;
  return {
    client,
    finish() {
      present = false;
      for (const l of listeners) l({ type: "DELETED", object: pod });
    },
  };
}

describe("berth delete --wait", () => {
  it("by default returns only once the object is gone", async () => {
    const f = fakeClient();
    let out = "";
    let done = false;
    const p = deleteCmd(f.client, [{ resource: "pods", name: "p", namespace: "default" }], {}, (s) => void (out += s)).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(out).toBe('pod "p" deleted\n');
    expect(done).toBe(false);
    f.finish();
    await p;
    expect(done).toBe(true);
  });

  it("--wait=false returns at once", async () => {
    const f = fakeClient();
    await deleteCmd(f.client, [{ resource: "pods", name: "p", namespace: "default" }], { wait: false }, () => {});
  });
});
