/**
 * Berth's long-running processes start with its server flags (runtime/node_flags.ts): the
 * package's launcher (bin/berth.cjs, the `berth` on the PATH) and the npm scripts that run a
 * cluster pass them. Shown on a real process: its command line, read from /proc while it waits
 * for a manifest on stdin.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { missingServerFlags, SERVER_NODE_FLAGS } from "../../runtime/node_flags.ts";
import { ROOT } from "../helpers/cli.ts";
import { waitFor } from "../helpers/nats.ts";

/** Starts `file` as a program (as a shell runs it) and returns the node process's arguments. */
async function nodeArgsOf(file: string): Promise<string[]> {
  // `apply -f -` waits for its manifest on stdin: the process stays while its cmdline is read.
  const child = spawn(join(ROOT, file), ["apply", "-f", "-"], { cwd: ROOT, stdio: ["pipe", "ignore", "ignore"] });
  try {
    return await waitFor(() => {
      const args = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      // The launcher's shell has exec'd node once the first argument is node.
      return /(^|\/)node$/.test(args[0] ?? "") ? args : undefined;
    }, `${file} to become a node process`, 20_000, 20);
  } finally {
    child.stdin!.end();
    child.kill();
  }
}

describe("server flags", () => {
  it("server flags - the package's launcher starts node with them", async () => {
    const args = await nodeArgsOf("bin/berth.cjs");
    for (const f of SERVER_NODE_FLAGS) expect(args).toContain(f);
  });

  it("server flags - the npm scripts that run a cluster pass them", () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const name of ["start", "chaos"]) {
      for (const f of SERVER_NODE_FLAGS) expect(scripts[name], name).toContain(`node ${f} bin/berth.js`);
    }
  });

  it("server flags - missingServerFlags reads the command line and NODE_OPTIONS", () => {
    expect(missingServerFlags([], "")).toEqual([...SERVER_NODE_FLAGS]);
    expect(missingServerFlags([...SERVER_NODE_FLAGS], "")).toEqual([]);
    expect(missingServerFlags(["--inspect"], `--enable-source-maps ${SERVER_NODE_FLAGS.join(" ")}`)).toEqual([]);
  });
});
