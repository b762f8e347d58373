/**
 * Go's `time.Duration` text for a duration truncated to milliseconds, as the kubelet prints it in
 * events and probe messages: `0s`, `512ms`, `1.2s`, `1m2.345s`, `1h0m0s`.
 */
export function goDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t === 0) return "0s";
  if (t < 1000) return `${t}ms`;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t - h * 3_600_000) / 60_000);
  const s = ((t - h * 3_600_000 - m * 60_000) / 1000).toFixed(3).replace(/\.?0+$/, "");
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}
