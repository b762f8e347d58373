/**
 * Endpoint choice for the TCP proxy, as kube-proxy's userspace round robin does it: rotate over
 * the endpoints, restart the rotation when the set changes, optionally pin a client IP to an
 * endpoint for a while (`sessionAffinity: ClientIP`), and forget a pin when dialing it fails.
 * Pure apart from the clock value the caller passes in.
 */

/** A dialable address for one endpoint. `key` identifies the endpoint across updates. */
export interface ProxyTarget {
  host: string;
  port: number;
  key: string;
}

interface Pin {
  key: string;
  lastUsed: number;
}

export class Balancer {
  private targets: ProxyTarget[] = [];
  private index = 0;
  private readonly pins = new Map<string, Pin>();

  /** `affinityTimeoutMs` > 0 enables ClientIP affinity with that idle timeout. */
  constructor(private affinityTimeoutMs = 0) {}

  /** Enables, changes or (with 0) disables ClientIP affinity. */
  setAffinity(timeoutMs: number): void {
    this.affinityTimeoutMs = timeoutMs;
    if (timeoutMs <= 0) this.pins.clear();
  }

  get size(): number {
    return this.targets.length;
  }

  list(): readonly ProxyTarget[] {
    return this.targets;
  }

  /**
   * Replaces the endpoint set. The same set (by key, in any order) keeps the rotation where it
   * is; a different set restarts it and drops pins to endpoints that are gone.
   */
  setTargets(next: ProxyTarget[]): void {
    const sorted = [...next].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const same = sorted.length === this.targets.length && sorted.every((t, i) => t.key === this.targets[i].key && t.host === this.targets[i].host && t.port === this.targets[i].port);
    if (same) return;
    this.targets = sorted;
    this.index = 0;
    const keys = new Set(sorted.map((t) => t.key));
    for (const [ip, pin] of this.pins) if (!keys.has(pin.key)) this.pins.delete(ip);
  }

  /**
   * The endpoints to try for a new connection from `clientIp`, best first: the pinned one (if
   * affinity is on and the pin is fresh), then the round-robin order. Advances the rotation.
   */
  candidates(clientIp: string, now: number): ProxyTarget[] {
    const n = this.targets.length;
    if (n === 0) return [];
    const start = this.index % n;
    this.index = (start + 1) % n;
    const order: ProxyTarget[] = [];
    for (let i = 0; i < n; i++) order.push(this.targets[(start + i) % n]);
    if (this.affinityTimeoutMs > 0) {
      const pin = this.pins.get(clientIp);
      if (pin && now - pin.lastUsed <= this.affinityTimeoutMs) {
        const i = order.findIndex((t) => t.key === pin.key);
        if (i > 0) order.unshift(...order.splice(i, 1));
      } else if (pin) {
        this.pins.delete(clientIp);
      }
    }
    return order;
  }

  /** A connection to `target` succeeded: pin the client to it when affinity is on. */
  succeeded(clientIp: string, target: ProxyTarget, now: number): void {
    if (this.affinityTimeoutMs > 0) this.pins.set(clientIp, { key: target.key, lastUsed: now });
  }

  /** Dialing `target` failed: a pin of this client to it is forgotten. */
  failed(clientIp: string, target: ProxyTarget): void {
    if (this.pins.get(clientIp)?.key === target.key) this.pins.delete(clientIp);
  }

  /** Drops pins idle longer than the timeout (call now and then to bound memory). */
  sweep(now: number): void {
    for (const [ip, pin] of this.pins) if (now - pin.lastUsed > this.affinityTimeoutMs) this.pins.delete(ip);
  }

  get pinned(): number {
    return this.pins.size;
  }
}
