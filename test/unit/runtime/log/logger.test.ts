/** Structured, levelled logs: the line's shape in JSON and text, level filtering, size rotation and reading back. */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { formatLine, makeLogger, parseLogFormat, parseLogLevel, toLine } from "../../../../runtime/log/logger.ts";
import { upLog } from "../../../../runtime/cli/up_observe.ts";
import { lineComponents, loggedComponents, readComponentLog, RotatingLogs } from "../../../../runtime/log/rotating_file.ts";

const at = () => new Date("2026-12-02T04:00:00.000Z");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("logs", () => {
  it("lines - time, level, component, node and object lifted out of the fields", () => {
    const line = toLine("pod started", { component: "kubelet", node: "node-1", pod: "default/web", image: "busybox" }, {}, at);
    expect(line).toEqual({ time: "2026-12-02T04:00:00.000Z", level: "info", component: "kubelet", node: "node-1", object: "default/web", message: "pod started", fields: { image: "busybox" } });
    expect(JSON.parse(formatLine(line, "json"))).toEqual(line);
    expect(formatLine(line, "text")).toBe("2026-12-02T04:00:00.000Z INFO  kubelet node-1 default/web pod started image=busybox");
    expect(formatLine(toLine("x", { error: "a b" }, {}, at), "text")).toBe('2026-12-02T04:00:00.000Z WARN  - x error="a b"');
  });

  it("levels - an explicit level wins; an error field means warn; below the threshold nothing is written", () => {
    const written: string[] = [];
    const log = makeLogger({ format: "json", level: "warn", write: (t) => written.push(t) });
    log("chatty", { level: "debug" });
    log("normal");
    log("failed", { error: "boom" });
    log("bad", { level: "error" });
    expect(written.map((t) => JSON.parse(t).message)).toEqual(["failed", "bad"]);
    expect(() => parseLogLevel("loud")).toThrow(/--log-level must be one of debug, info, warn, error/);
    expect(() => parseLogFormat("xml")).toThrow(/--log-format must be json or text/);
  });

  it("files - one per component, rotated by size keeping the newest; read back oldest first with --tail", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-logs-"));
    dirs.push(dir);
    const files = new RotatingLogs(dir, { maxBytes: 100, keep: 2 });
    for (let i = 0; i < 30; i++) files.write("node-1", `line ${String(i).padStart(2, "0")} ${"x".repeat(20)}`);
    files.write("api", "hello");
    files.close();
    expect(readdirSync(dir).sort()).toEqual(["api.log", "node-1.log", "node-1.log.1", "node-1.log.2"]);
    const text = readComponentLog(dir, "node-1");
    const nums = [...text.matchAll(/line (\d\d)/g)].map((m) => Number(m[1]));
    expect(nums).toEqual([...nums].sort((a, b) => a - b));
    expect(nums.at(-1)).toBe(29);
    expect(readComponentLog(dir, "node-1", 2)).toMatch(/^line 28 x+\nline 29 x+\n$/);
    expect(loggedComponents(dir)).toEqual(["api", "node-1"]);
    expect(() => readComponentLog(dir, "scheduler")).toThrow(/no log for component "scheduler".*there are: api, node-1/);
    expect(() => files.write("../etc", "x")).toThrow(/invalid component name/);
  });

  it("components of the control-plane process - lines in control-plane.log, read back by --component scheduler|controller-manager|node-lifecycle", () => {
    for (const format of ["json", "text"]) {
      const home = mkdtempSync(join(tmpdir(), "berth-logs-"));
      dirs.push(home);
      const { log, close } = upLog(home, { "log-format": format }, () => {});
      const cp = (m: string, f?: Record<string, unknown>) => log(m, { component: "control-plane", ...f });
      cp("control plane started");
      cp("scheduler started", { component: "scheduler" });
      cp("controller started", { component: "controller-manager", controller: "node-lifecycle" });
      cp("controller started", { component: "controller-manager", controller: "replicationcontroller" });
      log("pod started", { node: "node-1", pod: "default/a" });
      log("listening", { component: "proxy" });
      close();
      const dir = join(home, "logs");
      expect(loggedComponents(dir)).toEqual(["control-plane", "node-1", "proxy"]);
      expect(readComponentLog(dir, "control-plane").trim().split("\n")).toHaveLength(4);
      const sched = readComponentLog(dir, "scheduler").trim().split("\n");
      expect(sched).toHaveLength(1);
      expect(sched[0]).toMatch(/scheduler started/);
      expect(lineComponents(sched[0])).toEqual(["scheduler"]);
      expect(readComponentLog(dir, "controller-manager").trim().split("\n")).toHaveLength(2);
      expect(readComponentLog(dir, "node-lifecycle")).toMatch(/^[^\n]*controller started[^\n]*node-lifecycle[^\n]*\n$/);
      expect(readComponentLog(dir, "controller-manager", 1)).toMatch(/replicationcontroller/);
      expect(() => readComponentLog(dir, "kubelet")).toThrow(/no log for component "kubelet".*there are: control-plane, node-1, proxy/);
    }
  });
});
