/**
 * Indexed Jobs' completion indexes — pure, as Kubernetes' pkg/controller/job/indexed_job_utils.go:
 * a pod's index (its `batch.kubernetes.io/job-completion-index` annotation), the completed
 * indexes as ordered intervals and their string form in `status.completedIndexes` ("1,3-5,7"),
 * the lowest indexes still to run, and which active pods to remove (repeated, out of range or
 * without an index).
 */
import type { Container, Job, Pod } from "../model/types.ts";
import { comparePodsForDeletion } from "./replication_controller_reconcile.ts";

/** The annotation (and label) carrying a pod's completion index. */
export const COMPLETION_INDEX_KEY = "batch.kubernetes.io/job-completion-index";
/** The env var every container of an Indexed Job's pod gets, from the downward API. */
export const COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";
/** Kubernetes' names.MaxGeneratedNameLength: 63 less the 5 random characters. */
const MAX_GENERATED_NAME_LENGTH = 58;

/** A run of indexes, `first` to `last` inclusive. */
export interface Interval {
  first: number;
  last: number;
}

export const isIndexedJob = (job: Job): boolean => job.spec.completionMode === "Indexed";

/** Kubernetes' getCompletionIndex: the annotation as a non-negative decimal integer, else undefined. */
export function completionIndexOf(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX_KEY];
  // As Go's strconv.Atoi: an optional sign, then decimal digits.
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * `status.completedIndexes` read back (Kubernetes' succeededIndexesFromString): intervals that do
 * not parse are skipped, those at or past `completions` dropped or cut short, adjacent ones merged.
 */
export function parseIndexes(s: string | undefined, completions: number): Interval[] {
  const out: Interval[] = [];
  if (!s) return out;
  const int = (x: string | undefined) => (x !== undefined && /^[+-]?\d+$/.test(x) ? Number(x) : NaN);
  for (const part of s.split(",")) {
    const limits = part.split("-");
    const first = int(limits[0]);
    if (Number.isNaN(first)) continue;
    if (first >= completions) break;
    let last = first;
    if (limits.length > 1) {
      last = int(limits[1]);
      if (Number.isNaN(last)) continue;
      last = Math.min(last, completions - 1);
    }
    const prev = out[out.length - 1];
    if (prev && prev.last === first - 1) prev.last = last;
    else out.push({ first, last });
  }
  return out;
}

/** The string form Kubernetes writes: "a-b" for a run of three or more, "a,b" for two. */
export function formatIndexes(intervals: readonly Interval[]): string {
  return intervals.map(({ first, last }) => (last === first ? `${first}` : `${first}${last === first + 1 ? "," : "-"}${last}`)).join(",");
}

/** How many indexes the intervals hold. */
export const countIndexes = (intervals: readonly Interval[]): number => intervals.reduce((n, i) => n + i.last - i.first + 1, 0);

/** Whether `ix` is in the (ordered) intervals. */
export function hasIndex(intervals: readonly Interval[], ix: number): boolean {
  let lo = 0;
  let hi = intervals.length;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    if (intervals[mid].last >= ix) hi = mid;
    else lo = mid + 1;
  }
  return hi < intervals.length && intervals[hi].first <= ix;
}

/** The intervals with `indexes` (ascending) added, merged (Kubernetes' withOrderedIndexes). */
export function withIndexes(intervals: readonly Interval[], indexes: readonly number[]): Interval[] {
  const out: Interval[] = [];
  const add = (next: Interval) => {
    const last = out[out.length - 1];
    if (!last || next.first > last.last + 1) out.push({ ...next });
    else if (last.last < next.last) last.last = next.last;
  };
  let i = 0;
  let j = 0;
  while (i < intervals.length && j < indexes.length) {
    if (intervals[i].first < indexes[j]) add(intervals[i++]);
    else add({ first: indexes[j], last: indexes[j++] });
  }
  while (i < intervals.length) add(intervals[i++]);
  while (j < indexes.length) add({ first: indexes[j], last: indexes[j++] });
  return out;
}

/** The lowest `count` indexes below `completions` neither succeeded nor held by an active pod (Kubernetes' firstPendingIndexes). */
export function firstPendingIndexes(active: readonly Pod[], succeeded: readonly Interval[], count: number, completions: number): number[] {
  const result: number[] = [];
  if (count <= 0) return result;
  const held = [...new Set(active.map(completionIndexOf).filter((ix): ix is number => ix !== undefined))].sort((a, b) => a - b);
  let candidate = 0;
  for (const taken of withIndexes(succeeded, held)) {
    for (; candidate < completions && result.length < count && candidate < taken.first; candidate++) result.push(candidate);
    if (candidate < taken.last + 1) candidate = taken.last + 1;
  }
  for (; candidate < completions && result.length < count; candidate++) result.push(candidate);
  return result;
}

/**
 * Active pods that must go whatever the parallelism (Kubernetes' appendDuplicatedIndexPodsForRemoval):
 * those without a valid index, those at or past `completions`, and for an index held by several
 * pods all but the one furthest along (the last in `comparePodsForDeletion` order). `keep` is the rest.
 */
export function podsWithBadIndexes(active: readonly Pod[], completions: number): { remove: Pod[]; keep: Pod[] } {
  const remove: Pod[] = [];
  const keep: Pod[] = [];
  const byIndex = new Map<number, Pod[]>();
  for (const p of active) {
    const ix = completionIndexOf(p);
    if (ix === undefined || ix >= completions) remove.push(p);
    else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
  }
  for (const ix of [...byIndex.keys()].sort((a, b) => a - b)) {
    const same = byIndex.get(ix)!.sort(comparePodsForDeletion);
    remove.push(...same.slice(0, -1));
    keep.push(same[same.length - 1]);
  }
  return { remove, keep };
}

/** The generateName of an index's pod: `<job>-<index>-`, the job's name cut so it fits (Kubernetes' podGenerateNameWithIndex). */
export function podGenerateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > MAX_GENERATED_NAME_LENGTH ? prefix.slice(0, MAX_GENERATED_NAME_LENGTH - suffix.length) + suffix : prefix;
}

/** `c` with `JOB_COMPLETION_INDEX` from the downward API, unless it sets the variable itself (Kubernetes' addCompletionIndexEnvVariable). */
export function withCompletionIndexEnv(c: Container): Container {
  if (c.env?.some((e) => e.name === COMPLETION_INDEX_ENV)) return c;
  return { ...c, env: [...(c.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_KEY}']` } } }] };
}
