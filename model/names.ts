/**
 * Generated object names, as Kubernetes' `generateName`: the prefix plus five characters from
 * an alphabet without vowels (no accidental words) and without look-alikes (0/o, 1/l).
 */
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/**
 * Random bytes drawn a kilobyte at a time: one `getRandomValues` per name cost more than the rest
 * of a pod create's name handling (its argument checks and the call into the crypto library).
 */
const pool = new Uint8Array(1024);
let poolAt = pool.length;

function randomByte(): number {
  if (poolAt === pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++];
}

/** `prefix` + five random characters. */
export function generateName(prefix: string): string {
  let s = prefix;
  for (let i = 0; i < 5; i++) s += ALPHABET[randomByte() % ALPHABET.length];
  return s;
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
