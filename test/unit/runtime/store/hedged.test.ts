import { describe, expect, it } from "vitest";
import { hedged } from "../../../../runtime/store/kv_store.ts";

const timeout = () => Object.assign(new Error("timeout"), { name: "TimeoutError" });
const after = <T>(ms: number, fn: () => T) => new Promise<T>((resolve, reject) => setTimeout(() => {
  try {
    resolve(fn());
  } catch (e) {
    reject(e);
  }
}, ms));

describe("hedged consumer creation", () => {
  it("a fast first attempt is the only one", async () => {
    let calls = 0;
    const v = await hedged(() => after(1, () => ++calls), () => {}, 50, 4);
    expect(v).toBe(1);
    await after(120, () => {});
    expect(calls).toBe(1);
  });

  it("a second attempt starts beside a slow first one and wins; the first's late success is discarded", async () => {
    let calls = 0;
    const discarded: number[] = [];
    const v = await hedged(() => {
      const n = ++calls;
      return n === 1 ? after(200, () => n) : after(5, () => n);
    }, (x) => discarded.push(x), 20, 4);
    expect(v).toBe(2);
    await after(250, () => {});
    expect(discarded).toEqual([1]);
    expect(calls).toBe(2);
  });

  it("attempts that time out are replaced at once, up to the limit, then the last timeout is the error", async () => {
    let calls = 0;
    await expect(hedged(() => {
      calls++;
      return after(5, () => {
        throw timeout();
      });
    }, () => {}, 1_000, 3)).rejects.toThrow(/timeout/);
    expect(calls).toBe(3);
  });

  it("an error that is not a timeout ends it at once (another try cannot fix it)", async () => {
    let calls = 0;
    await expect(hedged(() => {
      calls++;
      return after(5, () => {
        throw new Error("stream not found");
      });
    }, () => {}, 1_000, 4)).rejects.toThrow(/stream not found/);
    expect(calls).toBe(1);
  });
});
