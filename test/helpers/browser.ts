/**
 * A real headless Chromium (Debian's `chromium` package) driven by playwright-core — never a
 * downloaded browser, never a mock. Flags keep it off the network: no background networking,
 * component updates or sync (this closed network refuses those connections), a fresh profile
 * per launch (playwright gives every launch its own temporary --user-data-dir and refuses one
 * passed in args), and certificate errors accepted only for the test cluster's own loopback server.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.BERTH_CHROMIUM ?? "/usr/bin/chromium";

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own cookies): the API server's certificate is from the cluster's private CA. */
  context(opts?: { width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches Chromium; fails loudly (it does not skip) when the package is missing. With `netns`,
 * Chromium runs inside that network namespace (through a small `ip netns exec` wrapper, as
 * playwright takes one executable path): its loopback, interfaces and netlink events are that
 * namespace's, so a test can change its network without touching the host's.
 */
export async function launchChromium(opts: { netns?: string } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (scripts/setup.sh does, as root)`);
  let wrapperDir: string | undefined;
  let executablePath = CHROMIUM;
  if (opts.netns) {
    wrapperDir = mkdtempSync(join(tmpdir(), "berth-chromium-"));
    executablePath = join(wrapperDir, "chromium");
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec '${opts.netns}' '${CHROMIUM}' "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    context: (o = {}) =>
      browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: o.width ?? 1280, height: o.height ?? 800 }, reducedMotion: "no-preference" }),
    async close() {
      await browser.close().catch(() => {});
      if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
    },
  };
}

/**
 * `page.goto` that survives Chromium's `net::ERR_NETWORK_CHANGED`. Chromium aborts connections
 * still being set up (TCP, TLS) when an address appears on any interface of its network
 * namespace, and every container the shared Docker engine starts adds a veth with an IPv6
 * link-local address — an event of this machine, not a fault of the page under test.
 *
 * Only that error is retried. Playwright reports it in two ways: as `net::ERR_NETWORK_CHANGED`,
 * or — when Chromium commits its error page before playwright has seen the failed request — as a
 * navigation "interrupted by another navigation to chrome-error://chromewebdata/". The error
 * page names the code, so it is read from there; any other code is rethrown with the code added.
 * `url` may be a function so a one-time login link is minted afresh for each attempt (the
 * aborted one may have been spent).
 */
export async function gotoPage(page: Page, url: string | (() => string), attempts = 5): ReturnType<Page["goto"]> {
  for (let i = 1; ; i++) {
    try {
      return await page.goto(typeof url === "function" ? url() : url);
    } catch (e) {
      const code = await chromiumErrorCode(page);
      const message = String((e as Error).message);
      const networkChanged = code === "ERR_NETWORK_CHANGED" || message.includes("net::ERR_NETWORK_CHANGED");
      if (i >= attempts || !networkChanged) {
        if (code && !message.includes(code)) (e as Error).message += ` (Chromium's error page: ${code})`;
        throw e;
      }
    }
  }
}

/**
 * The `net::` error code Chromium's error page shows after a failed navigation, or undefined when
 * the page did not land on the error page within 3 s. The error page commits a moment after the
 * failure, and its content cannot be read while it does, so this polls.
 */
export async function chromiumErrorCode(page: Page): Promise<string | undefined> {
  const until = Date.now() + 3_000;
  while (Date.now() < until && !page.isClosed()) {
    const code = await page
      .evaluate<string>(`location.href.startsWith("chrome-error:") ? (document.querySelector(".error-code")?.textContent ?? "").trim() : ""`)
      .catch(() => "");
    if (code) return code;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/**
 * Loads the form at `url`, fills it (`fill`) and submits it (its `button[type=submit]`), as
 * `gotoPage` surviving Chromium's `net::ERR_NETWORK_CHANGED`: a form's navigation is aborted by
 * a new address as a `goto` is, and then lands on Chromium's error page. On that error page
 * the form is loaded, filled and sent again (a sign-in sent twice is harmless: the first never
 * reached the server). Any other error page is an error naming its code. Costs up to 3 s after
 * the submit (the error page commits a moment after the failure; see `chromiumErrorCode`).
 */
export async function submitForm(page: Page, url: string, fill: (page: Page) => Promise<void>, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    await gotoPage(page, url);
    await fill(page);
    await page.click("button[type=submit]");
    const code = await chromiumErrorCode(page);
    if (code === undefined) return;
    if (code !== "ERR_NETWORK_CHANGED" || i >= attempts) throw new Error(`submitting the form at ${url} failed: Chromium's error page shows ${code} (attempt ${i})`);
  }
}
