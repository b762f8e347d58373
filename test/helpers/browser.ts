/**
 * A real headless Chromium (Debian's `chromium` package) driven by playwright-core — never a
 * downloaded browser, never a mock. Flags keep it off the network: no background networking,
 * component updates or sync (this closed network refuses those connections), a fresh profile
 * per launch (playwright gives every launch its own temporary --user-data-dir and refuses one
 * passed in args), and certificate errors accepted only for the test cluster's own loopback server.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.BERTH_CHROMIUM ?? "/usr/bin/chromium";

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own cookies): the API server's certificate is from the cluster's private CA. */
  context(opts?: { width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Launches Chromium; fails loudly (it does not skip) when the package is missing. */
export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (scripts/setup.sh does, as root)`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
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
    },
  };
}

/**
 * `page.goto` that survives Chromium's `net::ERR_NETWORK_CHANGED`. Chromium aborts navigations in
 * flight when an address appears on any host interface, and every container the shared Docker
 * engine starts adds a veth with an IPv6 link-local address — an event of this machine, not a
 * fault of the page under test. Only that error is retried; `url` may be a function so a
 * one-time login link is minted afresh for each attempt (the aborted one may have been spent).
 */
export async function gotoPage(page: Page, url: string | (() => string), attempts = 5): ReturnType<Page["goto"]> {
  for (let i = 1; ; i++) {
    try {
      return await page.goto(typeof url === "function" ? url() : url);
    } catch (e) {
      if (i >= attempts || !String((e as Error).message).includes("net::ERR_NETWORK_CHANGED")) throw e;
    }
  }
}
