/**
 * Who may see the live page: one-time login codes and the sessions they become.
 *
 *   berth dashboard ──POST /ui/login-codes (bearer token)──▶ code (single use, 60 s)
 *   browser ──GET /ui/login?code=…──▶ session (cookie, HttpOnly, SameSite=Strict) ──▶ /ui/
 *   browser ──POST /ui/login (the cluster token)──▶ session
 *
 * A session stands for the holder of the cluster's bearer token — the only identity the REST
 * API knows — so it is authorized for exactly what that token is. Each session carries its own
 * CSRF token, which the page echoes in a header on every action.
 *
 * Everything lives in this process's memory: a restarted API server forgets its sessions and
 * the page asks for a login again. The clock and the randomness are injected, so the expiry
 * rules are unit-tested without waiting.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

export interface Session {
  id: string;
  csrf: string;
  expiresAt: number;
}

export interface SessionStoreOptions {
  /** How long a login code stays usable, in ms (default 60 s). */
  codeTtlMs?: number;
  /** How long a session lasts, in ms (default 8 h). */
  sessionTtlMs?: number;
  /** Most codes and sessions kept at once; beyond that the oldest are dropped (default 1,000). */
  max?: number;
  now?: () => number;
  random?: () => string;
}

const randomId = () => randomBytes(32).toString("base64url");

export class SessionStore {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();
  private readonly codeTtl: number;
  private readonly sessionTtl: number;
  private readonly max: number;
  private readonly now: () => number;
  private readonly random: () => string;

  constructor(opts: SessionStoreOptions = {}) {
    this.codeTtl = opts.codeTtlMs ?? 60_000;
    this.sessionTtl = opts.sessionTtlMs ?? 8 * 3600_000;
    this.max = opts.max ?? 1000;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? randomId;
  }

  /** A fresh single-use login code and when it expires (ms since the epoch). */
  issueCode(): { code: string; expiresAt: number } {
    this.sweep();
    const code = this.random();
    const expiresAt = this.now() + this.codeTtl;
    this.codes.set(code, expiresAt);
    trim(this.codes, this.max);
    return { code, expiresAt };
  }

  /** Spends a login code: a session if it was issued, unused and unexpired; otherwise undefined. */
  redeemCode(code: string): Session | undefined {
    const expiresAt = this.codes.get(code);
    if (expiresAt === undefined) return undefined;
    this.codes.delete(code);
    if (expiresAt <= this.now()) return undefined;
    return this.createSession();
  }

  /** A new session (after a code, or after the cluster token was presented). */
  createSession(): Session {
    this.sweep();
    const s: Session = { id: this.random(), csrf: this.random(), expiresAt: this.now() + this.sessionTtl };
    this.sessions.set(s.id, s);
    trim(this.sessions, this.max);
    return s;
  }

  /** The live session with this id, if any. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Sessions and codes currently held (for tests and the health of the cap). */
  get size(): { codes: number; sessions: number } {
    return { codes: this.codes.size, sessions: this.sessions.size };
  }

  private sweep(): void {
    const now = this.now();
    for (const [c, exp] of this.codes) if (exp <= now) this.codes.delete(c);
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/** Drops the oldest entries (Maps iterate in insertion order) until at most `max` remain. */
function trim<K, V>(m: Map<K, V>, max: number): void {
  for (const k of m.keys()) {
    if (m.size <= max) break;
    m.delete(k);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(presented: string | undefined, session: Session): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const SESSION_COOKIE = "berth_ui";

/** The Set-Cookie value for a session: HttpOnly, SameSite=Strict, scoped to /ui, Secure over TLS. */
export function sessionCookie(s: Session, secure: boolean, now = Date.now()): string {
  const maxAge = Math.max(0, Math.floor((s.expiresAt - now) / 1000));
  return `${SESSION_COOKIE}=${s.id}; Path=/ui; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The Set-Cookie value that removes the session cookie. */
export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The session id from a Cookie header, if present. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === SESSION_COOKIE) return v.join("=") || undefined;
  }
  return undefined;
}
