/**
 * The browser tests' `gotoPage` against the event that made them flaky in CI: an address
 * appearing on an interface while Chromium is still setting up a connection (every container the
 * shared Docker engine starts adds a veth). Here it is made to happen on demand, in a network
 * namespace of the test's own: Chromium and a small HTTPS server both run inside it, the server
 * holds the first connection before its TLS handshake, and the test adds a veth pair with an
 * address while it is held. Plain `page.goto` fails with ERR_NETWORK_CHANGED; `gotoPage` retries
 * and loads the page; `submitForm` sends a form again whose POST was aborted so.
 */
import { spawn, execFileSync, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCa, generateServerCert } from "../../runtime/tls.ts";
import { waitFor } from "../helpers/nats.ts";
import { chromiumErrorCode, gotoPage, launchChromium, submitForm, type TestBrowser } from "../helpers/browser.ts";

const NS = `berth-bnc-${process.pid}`;
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

/** TLS on :8443; TCP fronts on :8080 and :8082 hold the first connection of each round until "go\n". */
const SERVER = `
const net = require("node:net"), https = require("node:https");
// The form posts to the second front (:8082): a connection of its own, never one opened before.
const FORM = '<html><body><form method="post" action="https://127.0.0.1:8082/sent"><input id="v" name="v"><button type="submit">Send</button></form></body></html>';
https.createServer({ key: process.env.KEY, cert: process.env.CERT }, (q, s) => {
  if (q.url === "/form") return s.writeHead(200, { "Content-Type": "text/html" }).end(FORM);
  if (q.url === "/sent" && q.method === "POST") { let b = ""; q.on("data", (d) => (b += d)); return q.on("end", () => s.end("<html><body>sent " + b + "</body></html>")); }
  s.end("<html><body>hi</body></html>");
}).listen(8443, "127.0.0.1");
let holding = null, hold = false, conns = 0;
require("node:readline").createInterface({ input: process.stdin }).on("line", (l) => {
  if (l === "arm") { hold = true; console.log("armed"); }
  if (l === "go" && holding) { holding(); holding = null; }
});
const front = () => net.createServer((c) => {
  c.on("error", () => {});
  conns++;
  const pass = () => { const u = net.connect(8443, "127.0.0.1"); u.on("error", () => {}); c.pipe(u).pipe(c); };
  if (hold) { hold = false; c.pause(); holding = () => { c.resume(); pass(); }; console.log("held " + conns); }
  else { pass(); console.log("passed " + conns); }
});
front().listen(8082, "127.0.0.1", () => front().listen(8080, "127.0.0.1", () => console.log("up")));
`;

describe("gotoPage across a network change (Chromium in a private network namespace)", () => {
  let server: ChildProcessByStdio<Writable, Readable, null>;
  let b: TestBrowser;
  const lines: string[] = [];
  let waiters: Array<() => void> = [];
  let veths = 0;

  const nextLine = (prefix: string, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the server never printed "${prefix}…"; it printed: ${lines.join(" | ")}`)), timeoutMs);
      const check = () => {
        const i = lines.findIndex((l) => l.startsWith(prefix));
        if (i < 0) return false;
        clearTimeout(t);
        resolve(lines.splice(i, 1)[0]);
        return true;
      };
      if (!check()) waiters.push(() => void check());
    });

  /** A veth pair, both ends up, with an IPv4 address: the kernel announces new addresses. */
  const changeNetwork = () => {
    const n = veths++;
    ip("-n", NS, "link", "add", `bnc${n}a`, "type", "veth", "peer", "name", `bnc${n}b`);
    ip("-n", NS, "link", "set", `bnc${n}a`, "up");
    ip("-n", NS, "link", "set", `bnc${n}b`, "up");
    ip("-n", NS, "addr", "add", `10.251.${n}.1/24`, "dev", `bnc${n}a`);
  };

  /**
   * Holds the next connection and changes the network while it is held; the connection is let go
   * once `settled` (the navigation the test made) has settled — aborted by the change, or
   * retried and loaded — or after 15 s if it never does. Letting it go at once raced Chromium's
   * handling of the change on a busy machine: the page could load before the abort.
   */
  const changeDuringNextConnect = async () => {
    server.stdin.write("arm\n");
    await nextLine("armed");
    // The navigation in a box: a promise resolved with a promise would take on its outcome.
    let settle!: (box: { p: Promise<unknown> }) => void;
    const navigation = new Promise<{ p: Promise<unknown> }>((r) => (settle = r));
    // Wrapped: an async function returning a promise would wait for it.
    const done = (async () => {
      await nextLine("held");
      changeNetwork();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([(await navigation).p.catch(() => {}), new Promise((r) => (timer = setTimeout(r, 15_000)))]);
      clearTimeout(timer);
      server.stdin.write("go\n");
    })();
    /** Starts the navigation whose settling lets the held connection go. */
    const navigate = <T>(p: Promise<T>): Promise<T> => (settle({ p }), p);
    return { done, navigate };
  };

  beforeAll(async () => {
    try {
      ip("netns", "del", NS);
    } catch {}
    ip("netns", "add", NS);
    ip("-n", NS, "link", "set", "lo", "up");
    const ca = await generateCa();
    const cert = await generateServerCert(ca, { hosts: ["127.0.0.1"] });
    server = spawn("ip", ["netns", "exec", NS, process.execPath, "-e", SERVER], {
      env: { ...process.env, KEY: cert.keyPem, CERT: cert.certPem },
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: server.stdout }).on("line", (l) => {
      lines.push(l);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
    await nextLine("up");
    b = await launchChromium({ netns: NS });
  }, 60_000);

  afterAll(async () => {
    await b?.close();
    server?.kill();
    try {
      ip("netns", "del", NS);
    } catch {}
  });

  it("plain page.goto fails with ERR_NETWORK_CHANGED, and the error page names the code", async () => {
    const ctx = await b.context();
    try {
      const page = await ctx.newPage();
      const changed = await changeDuringNextConnect();
      const err = await changed.navigate(page.goto("https://127.0.0.1:8080/")).then(
        () => undefined,
        (e: Error) => e,
      );
      await changed.done;
      expect(err, "the navigation should have been aborted by the network change").toBeInstanceOf(Error);
      expect(String(err!.message)).toMatch(/ERR_NETWORK_CHANGED|chrome-error:\/\/chromewebdata/);
      expect(await chromiumErrorCode(page)).toBe("ERR_NETWORK_CHANGED");
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it("gotoPage retries the aborted navigation and loads the page", async () => {
    const ctx = await b.context();
    try {
      const page = await ctx.newPage();
      let minted = 0;
      const changed = await changeDuringNextConnect();
      const res = await changed.navigate(gotoPage(page, () => (minted++, "https://127.0.0.1:8080/")));
      await changed.done;
      expect(res!.status()).toBe(200);
      expect(await page.textContent("body")).toBe("hi");
      // At least one retry; a second one when the veth's IPv6 link-local address (added a moment
      // later, as on Docker's veths) aborts the retry as well.
      expect(minted, "the url function is called once per attempt").toBeGreaterThanOrEqual(2);
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it("submitForm sends the form again when a network change aborts its navigation", async () => {
    const ctx = await b.context();
    try {
      const page = await ctx.newPage();
      let fills = 0;
      let changed: Awaited<ReturnType<typeof changeDuringNextConnect>> | undefined;
      const sent = submitForm(page, "https://127.0.0.1:8080/form", async (p) => {
        // The first time: the connection the form's POST opens is held while the network changes.
        if (++fills === 1) changed = await changeDuringNextConnect();
        await p.fill("#v", `try${fills}`);
      });
      await waitFor(() => changed, "the hold armed", 20_000);
      await changed!.navigate(sent);
      await changed!.done;
      expect(fills, "the form was loaded and filled again after the aborted POST").toBeGreaterThanOrEqual(2);
      expect(await page.textContent("body")).toBe(`sent v=try${fills}`);
    } finally {
      await ctx.close();
    }
  }, 60_000);

  it("any other failure is not retried, and says what Chromium showed", async () => {
    const ctx = await b.context();
    try {
      const page = await ctx.newPage();
      let minted = 0;
      // Nothing listens on :8081 inside the namespace.
      const err = await gotoPage(page, () => (minted++, "https://127.0.0.1:8081/")).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(String(err?.message)).toContain("ERR_CONNECTION_REFUSED");
      expect(minted).toBe(1);
    } finally {
      await ctx.close();
    }
  }, 60_000);
});
