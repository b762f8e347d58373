/**
 * The structured log sink every component takes: a message and key/value fields. Components
 * never print; whoever starts them decides where lines go.
 */
export type Log = (msg: string, fields?: Record<string, unknown>) => void;

/** A sink that drops everything (the default where no log is given). */
export const silent: Log = () => {};

/** Levels, lowest first. A component says its level with a `level` field; otherwise lines with an `error` field are `warn`, others `info`. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The level of one line, from its fields (see `LogLevel`). */
export function levelOf(fields: Record<string, unknown> | undefined): LogLevel {
  const l = fields?.level;
  if (typeof l === "string" && (LOG_LEVELS as readonly string[]).includes(l)) return l as LogLevel;
  return fields && "error" in fields ? "warn" : "info";
}
