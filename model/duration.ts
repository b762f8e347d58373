/**
 * Durations written as Go writes them (time.ParseDuration), the syntax of Kubernetes' duration
 * flags (`--horizontal-pod-autoscaler-sync-period=15s`) and of a CronJob's `@every 1h30m`.
 */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, "μs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A Go duration in milliseconds: an optional sign, then numbers each with a unit (`ns`, `us`,
 * `µs`, `ms`, `s`, `m`, `h`), as `15s`, `1m30s`, `1.5h`, `-2m`; `0` alone is zero. NaN when
 * `text` is not one (a bare number such as `15` has no unit and is not one, as in Go).
 */
export function parseGoDuration(text: string): number {
  let at = 0;
  let sign = 1;
  if (text[0] === "-" || text[0] === "+") {
    sign = text[0] === "-" ? -1 : 1;
    at = 1;
  }
  if (text.slice(at) === "0") return 0;
  if (at >= text.length) return NaN;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return NaN;
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = re.lastIndex;
  }
  return sign * total;
}
