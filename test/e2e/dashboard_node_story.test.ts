/**
 * The seed's story on the live page, in Chromium: a node stops reporting, its box turns
 * NotReady, and its pods are replaced on the other node — drawn from the watches as it happens.
 * Hollow nodes (the real node agent on the in-memory runtime), so no Docker is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { tmpdir } from "node:os";
import type { Page } from "playwright-core";
import { ROOT } from "../helpers/cli.ts";
import { waitFor } from "../helpers/nats.ts";
import { launchChromium, submitForm, type TestBrowser } from "../helpers/browser.ts";
import { startHollowUiCluster, type HollowUiCluster } from "../helpers/ui_cluster.ts";

describe.sequential("the live page tells the node story", () => {
  let c: HollowUiCluster;
  let b: TestBrowser;
  let page: Page;

  const podsOn = (node: string) => page.locator(`[data-node="${node}"] [data-pod]:not(.leaving)`);

  beforeAll(async () => {
    c = await startHollowUiCluster({ nodes: 2 });
    await c.cluster.apply(`apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 6
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: berth/busybox}]}
`);
    b = await launchChromium();
    page = await (await b.context()).newPage();
    await submitForm(page, `${c.apiUrl}/ui/`, (p) => p.fill("#token", c.token));
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await c?.stop();
  }, 60_000);

  it("shows six running pods spread over both nodes", async () => {
    await waitFor(async () => (await page.locator('[data-pod][data-phase="Running"]').count()) === 6, "six running pods", 30_000, 100);
    expect(await podsOn("node-1").count()).toBeGreaterThan(0);
    expect(await podsOn("node-2").count()).toBeGreaterThan(0);
  });

  it("a node that stops reporting turns NotReady and its pods are replaced on the other", async () => {
    const lost = await podsOn("node-1").evaluateAll((els) => els.map((e) => e.getAttribute("data-pod")!));
    await c.components.agents[0].stop();
    await page.locator('[data-node="node-1"] .badge', { hasText: "NotReady" }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: process.env.BERTH_SCREENSHOTS === "1" ? join(ROOT, "docs/images/dashboard-node-notready.png") : join(tmpdir(), `berth-node-notready-${process.pid}.png`) });
    await waitFor(async () => (await podsOn("node-2").count()) === 6, "all six pods on node-2", 60_000, 200);
    const nowOn2 = await podsOn("node-2").evaluateAll((els) => els.map((e) => e.getAttribute("data-pod")!));
    for (const p of lost) expect(nowOn2).not.toContain(p);
    await page.locator(".events li", { hasText: "node-1" }).first().waitFor();
  });
});
