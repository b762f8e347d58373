/**
 * Snapshots of the object store for fuzz tests: every object of every resource, keyed by
 * resource/namespace/name, with its full JSON, so "intact afterwards" means byte-for-byte equal.
 */
import type { ApiClient } from "../../model/client.ts";
import { RESOURCES, type Resource } from "../../model/types.ts";

export type Snapshot = Map<string, string>;

/** Every stored object, keyed `resource/namespace/name`. */
export async function snapshot(api: ApiClient): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const r of Object.keys(RESOURCES) as Resource[]) {
    const { items } = await api.list(r);
    for (const o of items) out.set(`${r}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, JSON.stringify(o));
  }
  return out;
}

/** The keys of `before` that are missing or different in `after`. */
export function changed(before: Snapshot, after: Snapshot, keep: (key: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const [k, v] of before) {
    if (!keep(k)) continue;
    if (after.get(k) !== v) out.push(k);
  }
  return out;
}
