/**
 * `berth dashboard` on a `berth control-plane --rest-port` copy (multi-machine): the link it
 * prints from the copy's home signs Chromium in, and the page draws from that copy's API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";
import { berth, ROOT } from "../helpers/cli.ts";
import { gotoPage, launchChromium, type TestBrowser } from "../helpers/browser.ts";

let nats: TestNats;
let dir: string;
let cp: ChildProcess;
let out = "";
let b: TestBrowser;

beforeAll(async () => {
  nats = await startTestNats();
  dir = mkdtempSync(join(tmpdir(), "berth-cp-ui-"));
  cp = spawn(process.execPath, ["bin/berth.js", "control-plane", "--nats", nats.url, "--rest-port", "0", "--home", join(dir, "cp"), "-q"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  cp.stdout!.on("data", (d) => (out += String(d)));
  cp.stderr!.on("data", (d) => (out += String(d)));
  await waitFor(() => /leading/.test(out) && /REST API at https:\/\/127\.0\.0\.1:\d+/.test(out), "the copy to lead and serve REST", 60_000, 100).catch((e) => {
    throw new Error(`${(e as Error).message}\n${out}`);
  });
  b = await launchChromium();
}, 90_000);

afterAll(async () => {
  await b?.close();
  if (cp && cp.exitCode === null) {
    const exited = new Promise((r) => cp.once("exit", r));
    cp.kill("SIGTERM");
    await exited;
  }
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("berth dashboard on a control-plane copy", () => {
  it("prints a link from the copy's home that signs in and shows the page", async () => {
    const api = /REST API at (https:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
    const mint = () => {
      const r = berth("node", join(dir, "cp"), ["dashboard"]);
      expect(r.code, r.stderr).toBe(0);
      const link = r.stdout.trim();
      expect(link.startsWith(`${api}/ui/login?code=`)).toBe(true);
      return link;
    };
    const page = await (await b.context()).newPage();
    await gotoPage(page, mint);
    expect(page.url()).toBe(`${api}/ui/`);
    await page.locator(".conn", { hasText: "Live" }).waitFor({ timeout: 30_000 });
    await page.getByText("No nodes have registered.").waitFor();
  });
});
