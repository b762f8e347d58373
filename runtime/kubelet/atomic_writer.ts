/**
 * The kubelet's AtomicWriter: the files of a ConfigMap, Secret or downward API volume, replaced
 * all at once so a reader inside the container never sees half of an update.
 *
 *   <dir>/..2026_12_02_04_06_00.123456789/   the files of one version (timestamped directory)
 *   <dir>/..data -> ..2026_12_02_...          the current version; replaced by rename(2) of a
 *                                             new symlink `..data_tmp` over it (atomic)
 *   <dir>/<key>  -> ..data/<key>              one symlink per top-level path, made once
 *
 * A write whose files equal the current version's changes nothing. Old version directories and
 * symlinks to paths no longer projected are removed after the swap. The directory itself is
 * bind-mounted into containers, so they see every swap.
 */
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** One file to project: a relative path (no `..`, no leading `/`), its bytes and its mode. */
export interface ProjectedFile {
  path: string;
  content: Uint8Array;
  mode: number;
}

const DATA = "..data";
const DATA_TMP = "..data_tmp";

/** Rejects paths that could leave the volume directory or collide with the writer's own names. */
export function checkProjectedPath(path: string): string | undefined {
  if (path === "") return "must not be empty";
  if (path.startsWith("/")) return "must be a relative path";
  if (path.split("/").includes("..")) return "must not contain '..'";
  if (path.startsWith("..")) return "must not start with '..'";
  return undefined;
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}${Math.floor(Math.random() * 1e6)}`;
}

async function current(dir: string): Promise<string | undefined> {
  try {
    return await readlink(join(dir, DATA));
  } catch {
    return undefined;
  }
}

/** True when the files under `version` are exactly `files` (same paths, bytes and modes). */
async function sameAs(dir: string, version: string, files: ProjectedFile[]): Promise<boolean> {
  const base = join(dir, version);
  const listed: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(base, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else listed.push(p);
    }
  };
  try {
    await walk("");
  } catch {
    return false;
  }
  if (listed.length !== files.length) return false;
  for (const f of files) {
    try {
      const st = await lstat(join(base, f.path));
      if ((st.mode & 0o777) !== (f.mode & 0o777)) return false;
      const got = await readFile(join(base, f.path));
      if (Buffer.compare(got, Buffer.from(f.content)) !== 0) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Makes `dir` hold exactly `files`, atomically. Resolves true when something changed. Throws
 * on a bad path (see `checkProjectedPath`) before touching anything.
 */
export async function writeAtomic(dir: string, files: ProjectedFile[], now = new Date()): Promise<boolean> {
  for (const f of files) {
    const bad = checkProjectedPath(f.path);
    if (bad) throw new Error(`projected path ${JSON.stringify(f.path)}: ${bad}`);
  }
  await mkdir(dir, { recursive: true });
  const old = await current(dir);
  if (old && (await sameAs(dir, old, files))) return false;
  const version = stamp(now);
  const base = join(dir, version);
  await mkdir(base, { mode: 0o755 });
  for (const f of files) {
    const target = join(base, f.path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, f.content, { mode: f.mode & 0o777 });
    await chmod(target, f.mode & 0o777); // writeFile's mode is filtered by the umask
  }
  await rm(join(dir, DATA_TMP), { force: true });
  await symlink(version, join(dir, DATA_TMP));
  await rename(join(dir, DATA_TMP), join(dir, DATA));
  // One symlink per top-level name, through ..data, so it follows every later swap.
  const top = new Set(files.map((f) => f.path.split("/")[0]));
  for (const name of top) {
    const link = join(dir, name);
    const want = `${DATA}/${name}`;
    let have: string | undefined;
    try {
      have = await readlink(link);
    } catch {
      have = undefined;
    }
    if (have === want) continue;
    await rm(link, { force: true, recursive: true });
    await symlink(want, link);
  }
  // Remove what the new version no longer has: stale top-level links and the old version.
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === DATA || e.name === version) continue;
    if (e.name.startsWith("..")) {
      if (e.isDirectory()) await rm(join(dir, e.name), { recursive: true, force: true });
      continue;
    }
    if (!top.has(e.name) && e.isSymbolicLink()) await rm(join(dir, e.name), { force: true });
  }
  return true;
}
