/**
 * Cron schedules as Kubernetes reads a CronJob's `schedule` (robfig/cron v3's standard parser):
 * five fields — minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-6 (Sunday
 * 0) — each a list (`1,15`) of `*` or `?`, numbers, ranges (`1-5`), month and weekday names
 * (`JAN`, `MON`), with an optional step (`*\/15`, `0-30/10`, `5/15` = from 5 to the end); or a
 * macro (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`, in
 * lower case), or `@every <duration>` (`@every 1h30m`: that long after the last, whole seconds).
 * A day of month and a day of week both restricted match either, as cron does; a field that is
 * `*` (or `*\/1`) does not restrict.
 *
 * This module decides what is a schedule and rewrites each field into plain numbers; croner
 * does the arithmetic (which times match, time zones, daylight saving — a time that falls in a
 * spring-forward gap runs at the first time after it, where robfig/cron skips it). croner's
 * extensions (seconds, years, `L`, `W`, `#`) are refused, as Kubernetes refuses them.
 */
import { Cron } from "croner";
import { parseGoDuration } from "../model/duration.ts";
import type { Schedule } from "../model/job.ts";

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  { name: "day of week", min: 0, max: 6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

const PART = /^(\*|\?|[0-9]+|[A-Za-z]+)(?:-([0-9]+|[A-Za-z]+))?(?:\/([0-9]+))?$/;

/** Why `schedule` is not a schedule (Kubernetes' wording where it has one), or undefined. */
export function scheduleProblem(schedule: string, timeZone?: string): string | undefined {
  try {
    parseSchedule(schedule, timeZone);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** One field rewritten into croner's plain form (numbers, ranges, steps, `*`); throws with robfig's reason when it is not one. */
function normalField(text: string, f: Field, schedule: string): string {
  const fail = (why: string): never => {
    throw new Error(`failed to parse ${f.name} field "${text}" of ${JSON.stringify(schedule)}: ${why}`);
  };
  const value = (v: string): number => {
    if (/^[0-9]+$/.test(v)) return Number(v);
    const i = f.names?.indexOf(v.toUpperCase()) ?? -1;
    if (i < 0) fail(`unknown value ${v}`);
    return f.min + i;
  };
  const parts = text.split(",").map((part) => {
    const m = PART.exec(part);
    if (!m) return fail(`unrecognised ${part}`);
    const [, from, to, stepText] = m;
    const star = from === "*" || from === "?";
    if (star && to !== undefined) fail(`a range cannot start with ${from}`);
    const start = star ? f.min : value(from);
    const end = star ? f.max : to !== undefined ? value(to) : stepText !== undefined ? f.max : start;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (start < f.min || end > f.max) fail(`beyond the range ${f.min}-${f.max}`);
    if (start > end) fail(`beginning of range (${start}) beyond end of range (${end})`);
    if (step === 0) fail("a step of zero");
    // robfig: every value from start to end with that step; a step of 1 over the whole range restricts nothing.
    if (star && step === 1) return "*";
    if (step === 1) return start === end ? String(start) : `${start}-${end}`;
    if (start + step > end) return String(start);
    return `${start}-${end}/${step}`;
  });
  return parts.includes("*") ? "*" : parts.join(",");
}

/** The schedule, read in `timeZone` (an IANA name; default the process's). Throws with a message when it is not one. */
export function parseSchedule(schedule: string, timeZone?: string): Schedule {
  const text = schedule.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new Error("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  if (timeZone !== undefined && !validTimeZone(timeZone)) throw new Error(`unknown time zone ${timeZone}`);
  if (text.startsWith("@every ")) {
    const ms = parseGoDuration(text.slice("@every ".length).trim());
    if (!(ms > 0)) throw new Error(`failed to parse duration ${text}`);
    // robfig: at least a second, whole seconds, counted from the last run (Kubernetes counts from the CronJob's last scheduled time).
    const every = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return {
      next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + every),
      previous: () => undefined,
      mostRecent: (after, upTo) => {
        const first = Math.floor(after.getTime() / 1000) * 1000 + every;
        if (first > upTo.getTime()) return undefined;
        return new Date(first + Math.floor((upTo.getTime() - first) / every) * every);
      },
    };
  }
  let pattern = text;
  if (text.startsWith("@")) {
    pattern = MACROS[text];
    if (!pattern) throw new Error(`unrecognized descriptor: ${text}`);
  }
  const fields = pattern.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${text}`);
  const plain = fields.map((f, i) => normalField(f, FIELDS[i], text)).join(" ");
  let cron: Cron;
  try {
    cron = new Cron(plain, { paused: true, mode: "5-part", domAndDow: false, ...(timeZone ? { timezone: timeZone } : {}) });
  } catch (e) {
    throw new Error(`${(e as Error).message.replace(/^CronPattern: /, "")} in ${JSON.stringify(text)}`);
  }
  const previous = (before: Date) => cron.previousRuns(1, before)[0];
  return {
    next: (after) => cron.nextRun(after) ?? undefined,
    previous,
    mostRecent: (after, upTo) => {
      const t = previous(new Date(upTo.getTime() + 1));
      return t && t.getTime() > after.getTime() ? t : undefined;
    },
  };
}

/**
 * True for a time zone as Go's time.LoadLocation knows it: an IANA name (`Europe/Oslo`) or `UTC`,
 * spelt with its exact case (Intl would also take `europe/oslo`).
 */
export function validTimeZone(tz: string): boolean {
  if (tz === "" || tz === "Local") return false;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    return resolved === tz || resolved.toLowerCase() !== tz.toLowerCase();
  } catch {
    return false;
  }
}
