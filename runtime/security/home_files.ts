/**
 * Files a home makes on first use (the REST token, the CA, the ServiceAccount signing key, the
 * encryption configuration), safe when several processes start at once on one home — two
 * `berth control-plane` copies on one machine, as docs/multi-machine.md runs them.
 *
 * A new file is written whole beside its place and then hard-linked into it. link(2) never
 * replaces a file, so the first process to link wins, every other one reads the winner's
 * content, and no process ever reads half a file.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

/** The file's content, or undefined when it does not exist. */
export function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Puts `content` at `path` (with `mode`) unless a file is there already, and returns what is
 * there now: `content` if this call placed it, else the file another process placed first.
 */
export function placeOnce(path: string, content: string, mode: number): string {
  const tmp = `${path}.${randomUUID()}.tmp`;
  writeFileSync(tmp, content, { mode, flag: "wx" });
  try {
    linkSync(tmp, path);
    return content;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return readFileSync(path, "utf8");
  } finally {
    unlinkSync(tmp);
  }
}

/** Reads `path`, or makes it with `make` when absent (see `placeOnce`). */
export function readOrCreate(path: string, make: () => string, mode = 0o600): string {
  return readIfExists(path) ?? placeOnce(path, make(), mode);
}

/** The file's content once it exists (checked every 50 ms), or undefined after `timeoutMs`. */
export async function waitForFile(path: string, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = readIfExists(path);
    if (content !== undefined || Date.now() >= deadline) return content;
    await new Promise((r) => setTimeout(r, 50));
  }
}
