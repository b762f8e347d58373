import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, newRecord, recordAfterAttempt } from "../../../actors/pod_backoff.ts";

const ctx = { image: "berth/busybox", sandboxId: "sb1", now: Date.parse("2026-12-01T00:00:00Z"), backoff: DEFAULT_BACKOFF, hasReadinessProbe: false };

describe("pod - the record after a start attempt", () => {
  it("a started container runs, ready at once without a readiness probe and not ready with one", () => {
    const r = recordAfterAttempt(newRecord("app"), { type: "started", id: "c1" }, ctx);
    expect(r).toMatchObject({ id: "c1", sandboxId: "sb1", image: "berth/busybox", started: true, ready: true, state: { kind: "running", startedAt: "2026-12-01T00:00:00.000Z" } });
    expect(recordAfterAttempt(newRecord("app"), { type: "started", id: "c1" }, { ...ctx, hasReadinessProbe: true }).ready).toBe(false);
  });

  it("a container that cannot run is terminated with ContainerCannotRun, so the restart policy decides", () => {
    const r = recordAfterAttempt({ ...newRecord("app"), backoffUntil: 5 }, { type: "startFailed", id: "c2", exitCode: 127, message: "exec: not found" }, ctx);
    expect(r.state).toEqual({ kind: "terminated", terminated: { exitCode: 127, reason: "ContainerCannotRun", message: "exec: not found", startedAt: "2026-12-01T00:00:00.000Z", finishedAt: "2026-12-01T00:00:00.000Z", containerID: "c2" } });
    expect(r.backoffUntil).toBeUndefined();
    expect(r.ready).toBe(false);
  });

  it("a missing image waits with ErrImageNeverPull, counts a crash and backs off at least the base delay", () => {
    const once = recordAfterAttempt({ ...newRecord("app"), id: "old" }, { type: "imageMissing", message: "image not present" }, ctx);
    expect(once).toMatchObject({ id: undefined, crashes: 1, ready: false, state: { kind: "waiting", reason: "ErrImageNeverPull", message: "image not present" } });
    expect(once.backoffUntil).toBe(ctx.now + DEFAULT_BACKOFF.baseMs);
    const third = recordAfterAttempt({ ...once, crashes: 2 }, { type: "imageMissing", message: "image not present" }, ctx);
    expect(third.crashes).toBe(3);
    expect(third.backoffUntil).toBe(ctx.now + 2 * DEFAULT_BACKOFF.baseMs);
  });
});
