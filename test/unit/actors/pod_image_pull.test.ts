import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, newRecord, planContainer, pullBackoffDelay, recordAfterAttempt } from "../../../actors/pod_backoff.ts";
import { nextWakeDelay } from "../../../actors/pod.ts";

const T0 = Date.parse("2026-12-01T00:00:00Z");
const ctx = { image: "127.0.0.1:5000/app:v1", sandboxId: "sb1", now: T0, backoff: DEFAULT_BACKOFF, hasReadinessProbe: false };
const plan = { policy: "Always" as const, sandboxId: "sb1", backoff: DEFAULT_BACKOFF, image: ctx.image };

describe("pod - image pull back-off", () => {
  it("the kubelet's image back-off: 10 s doubling to 5 min", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => pullBackoffDelay(n, DEFAULT_BACKOFF) / 1000)).toEqual([10, 20, 40, 80, 160, 300, 300]);
  });

  it("a failed pull shows ErrImagePull, then ImagePullBackOff at the next look, then retries when the back-off ends", () => {
    const failed = recordAfterAttempt(newRecord("app"), { type: "pullFailed", message: "manifest unknown" }, ctx);
    expect(failed).toMatchObject({ id: undefined, pullFailures: 1, crashes: 0, backoffUntil: T0 + 10_000, state: { kind: "waiting", reason: "ErrImagePull", message: "manifest unknown" } });
    // The actor looks again soon (not only when the back-off ends), so ImagePullBackOff is shown.
    expect(nextWakeDelay([failed], T0)).toBe(1000);
    const later = planContainer(failed, undefined, { ...plan, now: T0 + 1000 });
    expect(later.action).toEqual({ type: "wait", until: T0 + 10_000 });
    expect(later.record.state).toEqual({ kind: "waiting", reason: "ImagePullBackOff", message: 'Back-off pulling image "127.0.0.1:5000/app:v1"' });
    expect(later.record.recheckAt).toBeUndefined();
    expect(nextWakeDelay([later.record], T0 + 1000)).toBe(9000);
    expect(planContainer(later.record, undefined, { ...plan, now: T0 + 10_000 }).action).toEqual({ type: "start" });
  });

  it("repeated failures double the wait; a start resets the count and records the imageID", () => {
    let r = newRecord("app");
    for (let i = 0; i < 3; i++) r = recordAfterAttempt(r, { type: "pullFailed", message: "no" }, ctx);
    expect(r.pullFailures).toBe(3);
    expect(r.backoffUntil).toBe(T0 + 40_000);
    const started = recordAfterAttempt(r, { type: "started", id: "c1" }, { ...ctx, imageID: "docker-pullable://127.0.0.1:5000/app@sha256:ab" });
    expect(started).toMatchObject({ pullFailures: 0, backoffUntil: undefined, recheckAt: undefined, imageID: "docker-pullable://127.0.0.1:5000/app@sha256:ab", state: { kind: "running" } });
  });
});
