import { describe, expect, it } from "vitest";
import { Pacer } from "../../../../runtime/http/watch.ts";

describe("watch pacer", () => {
  it("watch pacer - many busy streams take turns, a few per event-loop turn, so other work runs in between", async () => {
    const pacer = new Pacer(8);
    const STREAMS = 200;
    const TURNS = 10;
    let given = 0;
    const all = Promise.all(Array.from({ length: STREAMS }, async () => {
      for (let i = 0; i < TURNS; i++) {
        await pacer.turn();
        given++;
      }
    }));
    // Work arriving from outside once every stream waits (an immediate queued after theirs; a
    // timer was due only after a millisecond, which a fast loop's first ticks did not reach).
    let seenAt = -1;
    setImmediate(() => (seenAt = given));
    await all;
    expect(given).toBe(STREAMS * TURNS);
    expect(pacer.stats.turns).toBe(STREAMS * TURNS);
    // Never more than 8 turns per tick...
    expect(pacer.stats.ticks).toBeGreaterThanOrEqual((STREAMS * TURNS) / 8);
    // ...so the outside work ran long before the streams were done (with a plain setImmediate
    // per stream, all 200 streams would go in each check phase).
    expect(seenAt).toBeGreaterThanOrEqual(0);
    expect(seenAt).toBeLessThan(STREAMS);
  });

  it("watch pacer - turns are handed out in arrival order", async () => {
    const pacer = new Pacer(2);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => pacer.turn().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});
