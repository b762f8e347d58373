import { describe, expect, it } from "vitest";
import { FencedError, fencedClient, mayActInTerm } from "../../../runtime/control_plane_host.ts";
import type { ApiClient } from "../../../model/client.ts";
import { NotSentError, outcomeUnknown } from "../../../model/errors.ts";

/** An election whose state the test sets. */
function election(leading: boolean, term: number) {
  const e = { leading, term, mayAct: () => e.leading, setTerm: (t: number) => (e.term = t) };
  return e;
}

/** A client that records the writes that reach it. */
function recorder() {
  const sent: string[] = [];
  const client = {
    create: async (_r: string, o: { metadata: { name: string } }) => (sent.push(`create ${o.metadata.name}`), o),
    get: async () => ({ metadata: { name: "x" } }),
  } as unknown as ApiClient;
  return { client, sent };
}

describe("control-plane write fence", () => {
  it("a client of term 1 writes while term 1 leads", async () => {
    const e = election(true, 1);
    const { client, sent } = recorder();
    const fenced = fencedClient(client, () => mayActInTerm(e, 1));
    await fenced.create("pods", { metadata: { name: "a" } } as never);
    expect(sent).toEqual(["create a"]);
  });

  it("a client of term 1 refuses once the copy lost the lease, and still refuses after it won term 2", async () => {
    const e = election(true, 1);
    const { client, sent } = recorder();
    const term1 = fencedClient(client, () => mayActInTerm(e, 1));
    e.leading = false;
    await expect(term1.create("pods", { metadata: { name: "b" } } as never)).rejects.toBeInstanceOf(FencedError);
    e.leading = true;
    e.setTerm(2);
    // The same copy leads again, in a new term: the old term's client (a retry still sleeping in
    // an RC actor of term 1) must not write; the new term's client may.
    await expect(term1.create("pods", { metadata: { name: "c" } } as never)).rejects.toBeInstanceOf(FencedError);
    const term2 = fencedClient(client, () => mayActInTerm(e, 2));
    await term2.create("pods", { metadata: { name: "d" } } as never);
    expect(sent).toEqual(["create d"]);
  });

  it("reads pass the fence; a refused write is known not to have happened", async () => {
    const e = election(false, 1);
    const { client } = recorder();
    const fenced = fencedClient(client, () => mayActInTerm(e, 1));
    await expect(fenced.get("pods", "x")).resolves.toBeDefined();
    const err = await fenced.create("pods", { metadata: { name: "e" } } as never).catch((x) => x);
    expect(err).toBeInstanceOf(NotSentError);
    expect(outcomeUnknown(err)).toBe(false);
  });
});
