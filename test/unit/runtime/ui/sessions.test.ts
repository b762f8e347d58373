import { describe, expect, it } from "vitest";
import { csrfMatches, sessionCookie, sessionIdFrom, SessionStore } from "../../../../runtime/ui/sessions.ts";

function store(opts: { max?: number } = {}) {
  let now = 1_000_000;
  let n = 0;
  const s = new SessionStore({ now: () => now, random: () => `id${++n}`, codeTtlMs: 60_000, sessionTtlMs: 3_600_000, ...opts });
  return { s, advance: (ms: number) => (now += ms), now: () => now };
}

describe("ui sessions", () => {
  it("a login code signs in once", () => {
    const { s } = store();
    const { code } = s.issueCode();
    const session = s.redeemCode(code);
    expect(session).toBeDefined();
    expect(s.get(session!.id)).toEqual(session);
    expect(s.redeemCode(code)).toBeUndefined();
  });

  it("a login code is refused after its expiry", () => {
    const { s, advance } = store();
    const { code } = s.issueCode();
    advance(60_000);
    expect(s.redeemCode(code)).toBeUndefined();
  });

  it("an unknown code is refused", () => {
    const { s } = store();
    s.issueCode();
    expect(s.redeemCode("made-up")).toBeUndefined();
    expect(s.redeemCode("")).toBeUndefined();
  });

  it("a session ends at its expiry and on sign-out", () => {
    const { s, advance } = store();
    const a = s.createSession();
    const b = s.createSession();
    s.end(b.id);
    expect(s.get(b.id)).toBeUndefined();
    advance(3_599_999);
    expect(s.get(a.id)).toBeDefined();
    advance(1);
    expect(s.get(a.id)).toBeUndefined();
  });

  it("keeps at most max sessions, dropping the oldest", () => {
    const { s } = store({ max: 3 });
    const made = Array.from({ length: 5 }, () => s.createSession());
    expect(s.size.sessions).toBe(3);
    expect(s.get(made[0].id)).toBeUndefined();
    expect(s.get(made[4].id)).toBeDefined();
  });

  it("each session has its own CSRF token, compared exactly", () => {
    const { s } = store();
    const a = s.createSession();
    const b = s.createSession();
    expect(a.csrf).not.toBe(b.csrf);
    expect(csrfMatches(a.csrf, a)).toBe(true);
    expect(csrfMatches(b.csrf, a)).toBe(false);
    expect(csrfMatches(undefined, a)).toBe(false);
    expect(csrfMatches("", a)).toBe(false);
  });

  it("the cookie is HttpOnly, SameSite=Strict, scoped to /ui, Secure over TLS", () => {
    const { s, now } = store();
    const a = s.createSession();
    const c = sessionCookie(a, true, now());
    expect(c).toMatch(/^berth_ui=id\d+; Path=\/ui; Max-Age=3600; HttpOnly; SameSite=Strict; Secure$/);
    expect(sessionCookie(a, false, now())).not.toContain("Secure");
    expect(sessionIdFrom(`other=1; berth_ui=${a.id}; x=y`)).toBe(a.id);
    expect(sessionIdFrom("other=1")).toBeUndefined();
    expect(sessionIdFrom(undefined)).toBeUndefined();
  });
});
