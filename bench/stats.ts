/** Small statistics shared by the bench programs (each used to carry its own copy). */

/** The `p`-th percentile (0–100) of `xs` by nearest rank (a sorted copy; `xs` is left as it is); NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.floor((p / 100) * s.length)))];
}

/** The median: the middle value, or the mean of the two middle values for an even count; NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The arithmetic mean; NaN for none. */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** A small seeded generator (mulberry32), so a report of the same file prints the same interval. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Percentile bootstrap 95 % interval of `stat` over `values` resampled with replacement (seeded). */
export function bootstrap<T>(values: readonly T[], stat: (a: T[]) => number, n = 10_000): [number, number] {
  const r = rng(17);
  const stats: number[] = [];
  const sample = new Array<T>(values.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < values.length; j++) sample[j] = values[Math.floor(r() * values.length)];
    stats.push(stat(sample));
  }
  return [percentile(stats, 2.5), percentile(stats, 97.5)];
}
