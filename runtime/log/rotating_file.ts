/**
 * Component log files under `<home>/logs/`, one per component (`api.log`, `control-plane.log`,
 * `node-1.log`), rotated by size: past `maxBytes` the file becomes `.1` (the older `.1` becomes
 * `.2`, …) and at most `keep` old files are kept. Writes are synchronous appends: a line is on
 * disk (in the page cache) before the call returns, so a crash loses nothing already logged.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 3;

/** Component names become file names: letters, digits, `-` and `_` only. */
export function logFileName(component: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(component)) throw new Error(`invalid component name ${JSON.stringify(component)}: letters, digits, - and _ only`);
  return `${component}.log`;
}

/**
 * The parts of the control-plane process; their lines go to `control-plane.log` (as
 * kube-scheduler and kube-controller-manager would share one process here) and are read back by
 * their own name with `berth logs --component scheduler`.
 */
export const CONTROL_PLANE_PARTS: ReadonlySet<string> = new Set(["control-plane", "scheduler", "controller-manager", "leader", "store"]);

/** The file (component name) a line goes to: its node's, its process's, else `api`. */
export function logFileFor(line: { node?: string; component?: string }): string {
  if (line.node) return line.node;
  const c = line.component;
  if (c && CONTROL_PLANE_PARTS.has(c)) return "control-plane";
  return c && /^[A-Za-z0-9_-]+$/.test(c) ? c : "api";
}

export class RotatingLogs {
  private readonly files = new Map<string, { fd: number; size: number }>();

  constructor(readonly dir: string, private readonly opts: { maxBytes?: number; keep?: number } = {}) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Appends one line to `component`'s file. */
  write(component: string, line: string): void {
    const name = logFileName(component);
    let f = this.files.get(name);
    if (!f) {
      const fd = openSync(join(this.dir, name), "a", 0o600);
      f = { fd, size: fstatSync(fd).size };
      this.files.set(name, f);
    }
    const buf = Buffer.from(line.endsWith("\n") ? line : `${line}\n`);
    if (f.size > 0 && f.size + buf.length > (this.opts.maxBytes ?? DEFAULT_LOG_MAX_BYTES)) {
      closeSync(f.fd);
      this.rotate(name);
      f.fd = openSync(join(this.dir, name), "a", 0o600);
      f.size = 0;
    }
    writeSync(f.fd, buf);
    f.size += buf.length;
  }

  close(): void {
    for (const f of this.files.values()) closeSync(f.fd);
    this.files.clear();
  }

  private rotate(name: string): void {
    const keep = this.opts.keep ?? DEFAULT_LOG_KEEP;
    const p = (i: number) => join(this.dir, i === 0 ? name : `${name}.${i}`);
    rmSync(p(keep), { force: true });
    for (let i = keep - 1; i >= 0; i--) if (existsSync(p(i))) renameSync(p(i), p(i + 1));
  }
}

/** The components that have logs in `dir`. */
export function loggedComponents(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith(".log")).map((f) => f.slice(0, -4)).sort();
  } catch {
    return []; // no logs directory yet
  }
}

/** A component's log, oldest rotated file first, as one text; `tail` keeps the last N lines. */
export function readComponentLog(dir: string, component: string, tail?: number): string {
  const name = logFileName(component);
  let text = readRotated(dir, name);
  if (text === undefined) {
    // No file of its own: a component living in another's process (the scheduler and the
    // controllers in control-plane.log) — its lines from every file, by their component field.
    const lines: string[] = [];
    for (const c of loggedComponents(dir)) {
      for (const line of (readRotated(dir, `${c}.log`) ?? "").split("\n")) if (line && lineComponents(line).includes(component)) lines.push(line);
    }
    if (lines.length === 0) {
      const known = loggedComponents(dir);
      throw new Error(`no log for component ${JSON.stringify(component)} in ${dir}${known.length ? ` (there are: ${known.join(", ")})` : ""}`);
    }
    text = `${lines.join("\n")}\n`;
  }
  if (tail === undefined) return text;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-tail).join("\n") + (lines.length ? "\n" : "");
}

/** A file and its rotated copies, oldest first; undefined when there is none. */
function readRotated(dir: string, name: string): string | undefined {
  const keep = 20;
  const parts: string[] = [];
  for (let i = keep; i >= 1; i--) {
    const p = join(dir, `${name}.${i}`);
    if (existsSync(p)) parts.push(readFileSync(p, "utf8"));
  }
  const cur = join(dir, name);
  if (!existsSync(cur) && parts.length === 0) return undefined;
  if (existsSync(cur)) parts.push(readFileSync(cur, "utf8"));
  return parts.join("");
}

/**
 * The names a written line answers to: its `component` and, for the controller manager's loops,
 * its `controller` field. JSON lines and text lines (`TIME LEVEL COMPONENT … controller=NAME`).
 */
export function lineComponents(line: string): string[] {
  if (line.startsWith("{")) {
    try {
      const o = JSON.parse(line) as { component?: unknown; fields?: { controller?: unknown } };
      return [o.component, o.fields?.controller].filter((v): v is string => typeof v === "string");
    } catch {
      return [];
    }
  }
  const out: string[] = [];
  const third = line.split(" ").filter((w) => w !== "")[2];
  if (third && third !== "-") out.push(third);
  const m = / controller=([^\s"]+)/.exec(line);
  if (m) out.push(m[1]);
  return out;
}
