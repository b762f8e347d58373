/**
 * A small, strict argument parser for the `berth` CLI: flags are declared per command, unknown
 * flags are errors (with the command's usage), values are typed. No dependency, so the CLI
 * starts fast and runs the same under Deno.
 */
import { parseGoDuration } from "../../model/duration.ts";

/** The longest `duration` flag: Node's timers take at most 2^31 − 1 ms (a longer one fires at once). */
export const MAX_DURATION_FLAG_MS = 596 * 3_600_000;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** `duration`: a Go duration (`15s`, `500ms`, `1m30s`) from 1ms to 596h, given to the command in milliseconds. */
  type: "string" | "boolean" | "number" | "strings" | "duration";
  help: string;
  default?: string | number | boolean;
}

/** One `berth` subcommand: its help and what it runs; every command module returns these. */
export interface Command {
  summary: string;
  usage: string;
  flags: FlagSpec[];
  run(p: Parsed): Promise<number | void>;
}

export interface Parsed {
  positional: string[];
  flags: Record<string, string | number | boolean | string[] | undefined>;
  /** Everything after a bare `--` (for `exec`). */
  rest: string[];
}

export function parseArgs(argv: string[], specs: FlagSpec[]): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: Parsed["flags"] = {};
  for (const s of specs) if (s.default !== undefined) flags[s.name] = s.default;
  const positional: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      rest = argv.slice(i + 1);
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const [n, v] = splitOnce(a.slice(2), "=");
      spec = byLong.get(n);
      inline = v;
      if (!spec) throw new UsageError(`unknown flag --${n}`);
    } else if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      const n = a.slice(1, 2);
      spec = byShort.get(n);
      if (!spec) throw new UsageError(`unknown flag -${n}`);
      // Bundled boolean flags, as `-it`: every letter a boolean flag of its own.
      const bundle = [...a.slice(1)].map((ch) => byShort.get(ch));
      if (a.length > 2 && bundle.every((b) => b?.type === "boolean")) {
        for (const b of bundle) flags[b!.name] = true;
        continue;
      }
      if (a.length > 2) inline = a.slice(2).replace(/^=/, "");
    } else {
      positional.push(a);
      continue;
    }
    if (spec.type === "boolean") {
      flags[spec.name] = inline === undefined ? true : !["false", "0", "no"].includes(inline);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`flag --${spec.name} needs a value`);
    if (spec.type === "number") {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`flag --${spec.name} needs a number, got ${JSON.stringify(value)}`);
      flags[spec.name] = n;
    } else if (spec.type === "duration") {
      const ms = parseGoDuration(value);
      if (!(ms >= 1 && ms <= MAX_DURATION_FLAG_MS)) {
        throw new UsageError(`flag --${spec.name} needs a duration from 1ms to 596h, such as 15s, 500ms or 1m30s; got ${JSON.stringify(value)}`);
      }
      flags[spec.name] = ms;
    } else if (spec.type === "strings") {
      const prev = (flags[spec.name] as string[] | undefined) ?? [];
      flags[spec.name] = [...prev, value];
    } else {
      flags[spec.name] = value;
    }
  }
  return { positional, flags, rest };
}

export function usageOf(specs: FlagSpec[]): string {
  return specs
    .map((s) => {
      const names = `${s.short ? `-${s.short}, ` : "    "}--${s.name}${s.type === "boolean" ? "" : ` ${s.type === "number" ? "N" : s.type === "duration" ? "DURATION" : "VALUE"}`}`;
      return `  ${names.padEnd(28)} ${s.help}${s.default !== undefined && s.default !== false ? ` (default ${s.default})` : ""}`;
    })
    .join("\n");
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
