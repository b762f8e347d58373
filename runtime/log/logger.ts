/**
 * Structured, levelled logs: the `Log` sink (model/log.ts) as JSON lines or readable text.
 *
 *   json  {"time":"…","level":"info","component":"scheduler","node":"node-1","object":"default/web-1","message":"…","fields":{…}}
 *   text  2026-12-02T04:00:00.000Z INFO  scheduler node-1 default/web-1 message key=value …
 *
 * `component`, `node` and `object` are lifted out of the fields (the object from `pod`, `rc`,
 * `service`, `object`); the rest stay under `fields`. Lines below `level` are dropped before
 * anything is formatted.
 */
import { LOG_LEVELS, levelOf, type Log, type LogLevel } from "../../model/log.ts";

export type LogFormat = "json" | "text";

const OBJECT_KEYS = ["object", "pod", "rc", "service"] as const;

export interface LogLine {
  time: string;
  level: LogLevel;
  component?: string;
  node?: string;
  object?: string;
  message: string;
  fields: Record<string, unknown>;
}

/** Splits a `Log` call into a line. Pure but for the clock. */
export function toLine(msg: string, fields: Record<string, unknown> | undefined, defaults: { component?: string; node?: string } = {}, now = () => new Date()): LogLine {
  const rest: Record<string, unknown> = { ...fields };
  const level = levelOf(fields);
  delete rest.level;
  const take = (k: string) => {
    const v = rest[k];
    delete rest[k];
    return v === undefined ? undefined : String(v);
  };
  const component = take("component") ?? defaults.component;
  const node = take("node") ?? defaults.node;
  let object: string | undefined;
  for (const k of OBJECT_KEYS) {
    if (rest[k] !== undefined && typeof rest[k] !== "object") {
      object = String(rest[k]);
      delete rest[k];
      break;
    }
  }
  return { time: now().toISOString(), level, ...(component ? { component } : {}), ...(node ? { node } : {}), ...(object ? { object } : {}), message: msg, fields: rest };
}

function textValue(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** One line as text or JSON (no newline). */
export function formatLine(line: LogLine, format: LogFormat): string {
  if (format === "json") return JSON.stringify(line);
  const parts = [line.time, line.level.toUpperCase().padEnd(5), line.component ?? "-", ...(line.node ? [line.node] : []), ...(line.object ? [line.object] : []), line.message];
  for (const [k, v] of Object.entries(line.fields)) parts.push(`${k}=${textValue(v)}`);
  return parts.join(" ");
}

export function parseLogLevel(s: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(s)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(s)}`);
  return s as LogLevel;
}

export function parseLogFormat(s: string): LogFormat {
  if (s !== "json" && s !== "text") throw new Error(`--log-format must be json or text, got ${JSON.stringify(s)}`);
  return s;
}

/** A `Log` writing formatted lines to `write`, at `level` and above. */
export function makeLogger(opts: { format: LogFormat; level: LogLevel; write: (line: string, parsed: LogLine) => void; component?: string; node?: string }): Log {
  const min = LOG_LEVELS.indexOf(opts.level);
  return (msg, fields) => {
    if (LOG_LEVELS.indexOf(levelOf(fields)) < min) return;
    const line = toLine(msg, fields, opts);
    opts.write(formatLine(line, opts.format), line);
  };
}
