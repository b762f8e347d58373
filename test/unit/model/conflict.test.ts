import { describe, expect, it } from "vitest";
import { ApiError } from "../../../model/errors.ts";
import { CONFLICT_RETRIES, retryOnConflict } from "../../../model/conflict.ts";

const conflict = () => new ApiError("Conflict", "the object has been modified");

describe("retryOnConflict", () => {
  it("reads and tries again after a lost compare-and-swap, returning the first success", async () => {
    let n = 0;
    const attempts: number[] = [];
    const out = await retryOnConflict(async (i) => {
      attempts.push(i);
      if (n++ < 2) throw conflict();
      return "ok";
    });
    expect(out).toBe("ok");
    expect(attempts).toEqual([0, 1, 2]);
  });

  it("gives up with the Conflict after the retries are spent", async () => {
    let n = 0;
    await expect(retryOnConflict(async () => {
      n++;
      throw conflict();
    })).rejects.toMatchObject({ reason: "Conflict" });
    expect(n).toBe(CONFLICT_RETRIES + 1);
  });

  it("never retries other errors, nor a Conflict the caller asked for (a pinned resourceVersion)", async () => {
    let n = 0;
    await expect(retryOnConflict(async () => {
      n++;
      throw new ApiError("NotFound", "gone");
    })).rejects.toMatchObject({ reason: "NotFound" });
    expect(n).toBe(1);
    let m = 0;
    await expect(retryOnConflict(async () => {
      m++;
      throw conflict();
    }, { retryIf: () => false })).rejects.toMatchObject({ reason: "Conflict" });
    expect(m).toBe(1);
  });
});
