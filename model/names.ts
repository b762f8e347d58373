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

/**
 * The cache and store key of an object: `namespace/name`, or `/name` for a cluster-scoped one.
 * Informers, controllers, the API and the store all key objects this way.
 */
export function objectKey(obj: { metadata: { name: string; namespace?: string } }): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
}

/** `namespace/name` for logs and messages (a missing namespace reads `default`). */
export function podRefString(obj: { metadata: { name: string; namespace?: string } }): string {
  return `${obj.metadata.namespace ?? "default"}/${obj.metadata.name}`;
}
