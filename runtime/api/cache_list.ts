/**
 * A list served from the watch cache with kube-apiserver's resourceVersion semantics:
 *
 *   resourceVersion ""/absent   consistent: the cache first catches up with the store
 *   "0"                         whatever the cache holds now
 *   N (NotOlderThan, default)   the cache's state once it has reached N
 *   N, resourceVersionMatch=Exact   the state at exactly N (410 Expired if older than the window)
 *   continue                    the next page of the snapshot the token names (its revision and
 *                               the last key returned); a snapshot older than the window is
 *                               410 Expired, with a token that continues at the newest revision
 *
 * Label and field selectors are evaluated in the cache; `spec.nodeName=X` and the namespace are
 * served from indexes.
 */
import type { ListOptions } from "../../model/client.ts";
import { BadRequestError, ExpiredError, ApiError } from "../../model/errors.ts";
import type { AnyObject, Resource } from "../../model/types.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "../../model/selector.ts";
import type { WatchCache } from "./watch_cache.ts";

export interface CacheListResult {
  items: AnyObject[];
  revision: number;
  continue?: string;
}

/** How long a list waits for the cache to reach a resourceVersion newer than it holds. */
const FUTURE_WAIT_MS = 3_000;

export async function listFromCache(cache: WatchCache, resource: Resource, namespace: string | undefined, opts: ListOptions): Promise<CacheListResult> {
  const labels = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
  const fields = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector, resource) : undefined;
  const match = labels || fields ? (o: AnyObject) => (!labels || matchesLabels(labels, o.metadata.labels)) && (!fields || matchesFields(fields, o)) : undefined;
  const nodeName = fields?.requirements.find((r) => r.field === "spec.nodeName" && r.operator === "=")?.value;
  const match2 = opts.resourceVersionMatch;
  if (match2 !== undefined && match2 !== "NotOlderThan" && match2 !== "Exact") {
    throw new BadRequestError(`invalid resourceVersionMatch ${JSON.stringify(match2)}: must be NotOlderThan or Exact`);
  }
  const rv = parseRv(opts.resourceVersion);
  let revision: number;
  let after: string | undefined;
  if (opts.continue) {
    if (opts.resourceVersion || match2) throw new BadRequestError("resourceVersion and resourceVersionMatch may not be given with continue");
    const token = decodeContinue(opts.continue);
    after = token.start;
    await cache.ready();
    if (token.rv === undefined) {
      revision = cache.revision;
    } else {
      if (token.rv < cache.windowStart) {
        throw new ExpiredError(
          `The provided continue parameter is too old to display a consistent list result (revision ${token.rv}, the cache holds ${cache.windowStart} and later). You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.`,
          encodeContinue(undefined, token.start),
        );
      }
      if (!(await cache.reach(token.rv, FUTURE_WAIT_MS))) throw tooLarge(token.rv, cache.revision);
      revision = token.rv;
    }
  } else if (match2 === "Exact") {
    if (rv === undefined || rv === 0) throw new BadRequestError(`resourceVersionMatch=Exact needs a resourceVersion other than "0"`);
    await cache.ready();
    if (rv < cache.windowStart) throw new ApiError("Gone", `too old resource version: ${rv} (${cache.windowStart})`);
    if (!(await cache.reach(rv, FUTURE_WAIT_MS))) throw tooLarge(rv, cache.revision);
    revision = rv;
  } else if (rv === undefined) {
    if (match2) throw new BadRequestError("resourceVersionMatch needs a resourceVersion");
    revision = await cache.sync();
  } else {
    await cache.ready();
    if (rv > 0 && !(await cache.reach(rv, FUTURE_WAIT_MS))) throw tooLarge(rv, cache.revision);
    revision = cache.revision;
  }
  const page = cache.page({ resource, namespace, nodeName, after, revision, match, limit: opts.limit });
  const last = page.items[page.items.length - 1];
  return {
    items: page.items,
    revision,
    ...(page.more && last ? { continue: encodeContinue(revision, keyOf(last)) } : {}),
  };
}

function keyOf(o: AnyObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

function tooLarge(rv: number, have: number): ApiError {
  return new ApiError("Timeout", `Too large resource version: ${rv}, current: ${have}`, { retryAfterSeconds: 1 });
}

function parseRv(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === "") return undefined;
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) throw new BadRequestError(`invalid resourceVersion ${JSON.stringify(rv)}: must be a non-negative integer`);
  return n;
}

/** The token: the snapshot's revision (absent: the newest, after an Expired) and the last key returned. */
export function encodeContinue(rv: number | undefined, start: string): string {
  return btoa(JSON.stringify(rv === undefined ? { start } : { rv, start }));
}

export function decodeContinue(token: string): { rv?: number; start: string } {
  try {
    const v = JSON.parse(atob(token)) as { rv?: unknown; start?: unknown; after?: unknown };
    // `after`: a token from a Berth before the watch cache (no snapshot): continue at the newest.
    if (typeof v.after === "string") return { start: v.after };
    if (typeof v.start === "string" && (v.rv === undefined || (typeof v.rv === "number" && Number.isSafeInteger(v.rv) && v.rv >= 0))) {
      return { start: v.start, ...(v.rv !== undefined ? { rv: v.rv as number } : {}) };
    }
  } catch {
    // fall through to the error below
  }
  throw new BadRequestError(`invalid continue token ${JSON.stringify(token.slice(0, 64))}`);
}
