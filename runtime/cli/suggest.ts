/** "Did you mean …?" for a mistyped command or resource type: the closest candidates by edit distance. */

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      // a transposition ("gte" for "get") costs one, as cobra's suggestions treat it
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Candidates within two edits of `word` (or that it is a prefix of), closest first. */
export function suggest(word: string, candidates: Iterable<string>): string[] {
  const w = word.toLowerCase();
  const scored = [...new Set(candidates)]
    .map((c) => ({ c, d: c.startsWith(w) && w.length >= 2 ? 0.5 : distance(w, c.toLowerCase()) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return scored.slice(0, 3).map((x) => x.c);
}

/** `\n\nDid you mean this?\n\tget` (kubectl's wording), or "" with nothing close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const s = suggest(word, candidates);
  return s.length ? `\n\nDid you mean this?\n${s.map((x) => `\t${x}`).join("\n")}` : "";
}
