/**
 * Generated object names, as Kubernetes' `generateName`: the prefix plus five characters from
 * an alphabet without vowels (no accidental words) and without look-alikes (0/o, 1/l).
 */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** `prefix` + five random characters. */
export function generateName(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return prefix + Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
}
