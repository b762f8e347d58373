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
  const keep = 20;
  const parts: string[] = [];
  for (let i = keep; i >= 1; i--) {
    const p = join(dir, `${name}.${i}`);
    if (existsSync(p)) parts.push(readFileSync(p, "utf8"));
  }
  const cur = join(dir, name);
  if (!existsSync(cur) && parts.length === 0) {
    const known = loggedComponents(dir);
    throw new Error(`no log for component ${JSON.stringify(component)} in ${dir}${known.length ? ` (there are: ${known.join(", ")})` : ""}`);
  }
  if (existsSync(cur)) parts.push(readFileSync(cur, "utf8"));
  const text = parts.join("");
  if (tail === undefined) return text;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-tail).join("\n") + (lines.length ? "\n" : "");
}
