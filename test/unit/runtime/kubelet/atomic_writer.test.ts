import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkProjectedPath, writeAtomic } from "../../../../runtime/kubelet/atomic_writer.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("atomic writer (the kubelet's ..data swap)", () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), "aw-")), "vol");
  });
  afterEach(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

  it("atomic writer - lays out a timestamped version, ..data and one symlink per top-level name", async () => {
    expect(await writeAtomic(dir, [{ path: "a.conf", content: enc("one"), mode: 0o644 }, { path: "sub/b", content: enc("two"), mode: 0o600 }])).toBe(true);
    const data = readlinkSync(join(dir, "..data"));
    expect(data).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./);
    expect(readlinkSync(join(dir, "a.conf"))).toBe("..data/a.conf");
    expect(readlinkSync(join(dir, "sub"))).toBe("..data/sub");
    expect(readFileSync(join(dir, "a.conf"), "utf8")).toBe("one");
    expect(readFileSync(join(dir, "sub", "b"), "utf8")).toBe("two");
    expect(statSync(join(dir, data, "sub", "b")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, data, "a.conf")).mode & 0o777).toBe(0o644);
  });

  it("atomic writer - an update swaps ..data, keeps the key links and removes the old version", async () => {
    await writeAtomic(dir, [{ path: "k", content: enc("v1"), mode: 0o644 }, { path: "gone", content: enc("x"), mode: 0o644 }]);
    const first = readlinkSync(join(dir, "..data"));
    expect(await writeAtomic(dir, [{ path: "k", content: enc("v2"), mode: 0o644 }])).toBe(true);
    const second = readlinkSync(join(dir, "..data"));
    expect(second).not.toBe(first);
    expect(readFileSync(join(dir, "k"), "utf8")).toBe("v2");
    expect(readdirSync(dir).sort()).toEqual([second, "..data", "k"].sort());
    expect(lstatSync(join(dir, "k")).isSymbolicLink()).toBe(true);
  });

  it("atomic writer - the same files change nothing (no new version)", async () => {
    await writeAtomic(dir, [{ path: "k", content: enc("v"), mode: 0o644 }]);
    const v = readlinkSync(join(dir, "..data"));
    expect(await writeAtomic(dir, [{ path: "k", content: enc("v"), mode: 0o644 }])).toBe(false);
    expect(readlinkSync(join(dir, "..data"))).toBe(v);
    // A mode change alone is a change.
    expect(await writeAtomic(dir, [{ path: "k", content: enc("v"), mode: 0o400 }])).toBe(true);
  });

  it("atomic writer - an empty set of files leaves an empty, valid volume", async () => {
    await writeAtomic(dir, [{ path: "k", content: enc("v"), mode: 0o644 }]);
    await writeAtomic(dir, []);
    expect(readdirSync(dir).filter((n) => !n.startsWith(".."))).toEqual([]);
  });

  it("atomic writer - refuses paths that leave the volume, before touching anything", async () => {
    expect(checkProjectedPath("../x")).toMatch(/'\.\.'/);
    expect(checkProjectedPath("/etc/passwd")).toMatch(/relative/);
    expect(checkProjectedPath("..data")).toMatch(/start with/);
    await expect(writeAtomic(dir, [{ path: "a/../../x", content: enc(""), mode: 0o644 }])).rejects.toThrow(/must not contain/);
    expect(() => readdirSync(dir)).toThrow();
  });
});
