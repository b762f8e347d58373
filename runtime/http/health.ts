/**
 * `/healthz`, `/livez`, `/readyz`: named checks run on request and reported the way
 * kube-apiserver does (staging/src/k8s.io/apiserver/pkg/server/healthz):
 *
 *   all pass, plain       200 `ok`
 *   all pass, ?verbose    200 `[+]ping ok` … `readyz check passed`
 *   any fails             500 `[+]ping ok` `[-]store failed: reason withheld` … `readyz check failed`
 *   /readyz/<check>       200 `ok`, or 500 `internal server error: <reason>`
 *
 * The root endpoints are public, so a failure's reason is withheld there (and logged), as
 * Kubernetes does. `/livez` skips readiness-only checks: a server waiting for its leader lease or
 * informers to sync is alive, only not ready. Concurrent requests share one run of each check,
 * so a flood of health probes costs the store one ping at a time.
 */

import type { HealthEndpoint } from "./routes.ts";

export interface HealthCheck {
  /** Shown as `[+]name ok`; also the path of the single check, `/readyz/<name>`. */
  name: string;
  /** Resolves when healthy; throws (or rejects) with the reason otherwise. */
  check(): Promise<void> | void;
  /** Part of `/readyz` and `/healthz` only, not `/livez`. */
  readinessOnly?: boolean;
}

export interface HealthResult {
  name: string;
  ok: boolean;
  /** Why it failed (for logs and the single-check endpoint). */
  reason?: string;
}

/** Default time a check may take before it counts as failed (kube-apiserver's etcd check: 2 s). */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;

/** The check every server has: it answers, so it is alive. */
export const PING: HealthCheck = { name: "ping", check: () => {} };

/** The checks an endpoint runs, in order. */
export function checksFor(endpoint: HealthEndpoint, checks: readonly HealthCheck[]): HealthCheck[] {
  return endpoint === "livez" ? checks.filter((c) => !c.readinessOnly) : [...checks];
}

/** Runs checks concurrently, each bounded by `timeoutMs`; one run of a check is shared by all callers. */
export class HealthRunner {
  private readonly inFlight = new Map<string, Promise<HealthResult>>();
  constructor(private readonly timeoutMs = DEFAULT_HEALTH_TIMEOUT_MS) {}

  run(checks: readonly HealthCheck[]): Promise<HealthResult[]> {
    return Promise.all(checks.map((c) => this.runOne(c)));
  }

  private runOne(c: HealthCheck): Promise<HealthResult> {
    let p = this.inFlight.get(c.name);
    if (!p) {
      p = (async (): Promise<HealthResult> => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        });
        try {
          await Promise.race([Promise.resolve().then(() => c.check()), timeout]);
          return { name: c.name, ok: true };
        } catch (e) {
          return { name: c.name, ok: false, reason: e instanceof Error ? e.message : String(e) };
        } finally {
          clearTimeout(timer);
          this.inFlight.delete(c.name);
        }
      })();
      this.inFlight.set(c.name, p);
    }
    return p;
  }
}

/** The response kube-apiserver gives for a root health endpoint. Pure. */
export function renderHealth(endpoint: HealthEndpoint, results: readonly HealthResult[], verbose: boolean): { status: number; text: string } {
  const lines = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
  if (results.some((r) => !r.ok)) return { status: 500, text: `${lines.join("\n")}\n${endpoint} check failed\n` };
  if (!verbose) return { status: 200, text: "ok" };
  return { status: 200, text: `${lines.join("\n")}\n${endpoint} check passed\n` };
}

/** The response for one named check (`/readyz/store`). Pure. */
export function renderSingleCheck(result: HealthResult): { status: number; text: string } {
  return result.ok ? { status: 200, text: "ok" } : { status: 500, text: `internal server error: ${result.reason}\n` };
}
