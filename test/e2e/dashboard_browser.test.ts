/**
 * The live page in a real browser: `berth up --nodes 2 --example` on Docker, Debian's Chromium
 * driven by playwright-core. The page shows the nodes and pods of examples/myapp.yaml, a scale
 * from the page makes pods appear (an RC's, a kubectl-made Deployment's, a StatefulSet's), a pod deleted with kubectl disappears and its replacement
 * appears, StatefulSets, DaemonSets, Jobs, CronJobs and disruption budgets get cards of their
 * own, a login without the token is refused — and every request the page makes stays on
 * the cluster's own loopback address. With BERTH_SCREENSHOTS=1 the screenshots land in docs/images/
 * (the README shows them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { berth, ROOT } from "../helpers/cli.ts";
import { waitFor } from "../helpers/nats.ts";
import { startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { gotoPage, launchChromium, submitForm, type TestBrowser } from "../helpers/browser.ts";

// The README's screenshots are refreshed with BERTH_SCREENSHOTS=1; otherwise they go to a temp
// folder, so a test run never dirties the work tree.
const IMAGES = process.env.BERTH_SCREENSHOTS === "1" ? join(ROOT, "docs/images") : mkdtempSync(join(tmpdir(), "berth-shots-"));

describe.sequential("the live page (berth up on Docker, Chromium)", () => {
  let c: BerthUpCluster;
  let b: TestBrowser;
  let ctx: BrowserContext;
  let page: Page;
  let apiUrl = "";
  const offsite: string[] = [];

  const backendPods = () => page.locator('[data-pod^="default/backend-"]:not(.leaving)');
  const podNames = async () => (await backendPods().evaluateAll((els) => els.map((e) => e.getAttribute("data-pod")!))).sort();

  beforeAll(async () => {
    c = await startBerthUpCluster("dashboard", ["--nodes", "2", "--example"]);
    apiUrl = (JSON.parse(readFileSync(join(c.home, "cluster.json"), "utf8")) as { apiUrl: string }).apiUrl;
    b = await launchChromium();
    ctx = await b.context({ width: 1280, height: 800 });
    // The page must work offline: anything not addressed to the cluster's API is recorded and fails the last test.
    await ctx.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(`${apiUrl}/`) || u.startsWith("data:")) return route.continue();
      offsite.push(u);
      return route.abort();
    });
    page = await ctx.newPage();
  }, 720_000);

  afterAll(async () => {
    await b?.close();
    // The helper empties Deployments, ReplicaSets, RCs, services and pods only: the controllers
    // of these kinds would make their pods again. Normally the last cases deleted them already.
    c?.kubectl(["delete", ...WORKLOAD_OBJECTS, "--ignore-not-found", "--wait=false"]);
    await stopBerthUpCluster(c);
  }, 180_000);

  it("a login without the token is refused", async () => {
    const other = await b.context();
    try {
      const p = await other.newPage();
      const first = await gotoPage(p, `${apiUrl}/ui/`);
      expect(first!.status()).toBe(401);
      await submitForm(p, `${apiUrl}/ui/`, (page) => page.fill("#token", "not-the-token"));
      await p.getByText("That token was refused.").waitFor();
      expect(await other.cookies()).toEqual([]);
      const feed = await other.request.get(`${apiUrl}/ui/api/feed`);
      expect(feed.status()).toBe(401);
      // An action without a session is refused too, whatever it carries.
      const act = await other.request.post(`${apiUrl}/ui/api/actions`, { data: { action: "deletePod", name: "frontend" }, headers: { "X-Berth-CSRF": "x" } });
      expect(act.status()).toBe(401);
    } finally {
      await other.close();
    }
  });

  it("berth dashboard prints a one-time link that signs in and shows the nodes and pods of myapp", async () => {
    let link = "";
    const mint = () => {
      const r = berth("node", c.home, ["dashboard"]);
      expect(r.code, r.stderr).toBe(0);
      link = r.stdout.trim();
      expect(link).toMatch(new RegExp(`^${apiUrl.replace(/[.]/g, "\\.")}/ui/login\\?code=[A-Za-z0-9_-]{20,}$`));
      return link;
    };
    const res = await gotoPage(page, mint);
    expect(page.url()).toBe(`${apiUrl}/ui/`);
    expect(res!.headers()["content-security-policy"]).toContain("script-src 'self'");
    const cookie = (await ctx.cookies()).find((k) => k.name === "berth_ui")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: true, path: "/ui" });

    await page.locator('[data-node="node-1"] .badge', { hasText: "Ready" }).waitFor();
    await page.locator('[data-node="node-2"] .badge', { hasText: "Ready" }).waitFor();
    await page.locator('[data-pod="default/frontend"][data-phase="Running"]').waitFor({ timeout: 60_000 });
    await waitFor(async () => (await backendPods().count()) === 3, "three backend pods on the page", 60_000, 200);
    await page.locator('[data-svc="default/backend-service"]', { hasText: "3 ready" }).waitFor({ timeout: 60_000 });
    await expect(page.locator('[data-svc="default/backend-service"] .svc-ip').textContent()).resolves.toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await page.locator('[data-rc="backend"] [data-testid="rc-desired"]', { hasText: "3" }).waitFor();
    // The pods sit inside the boxes of the nodes they run on.
    const nodesOfPods = await page.locator("[data-pod]").evaluateAll((els) => els.map((e) => e.closest("[data-node]")!.getAttribute("data-node")));
    expect(new Set(nodesOfPods)).toEqual(new Set(["node-1", "node-2"]));
    // The service's lines reach its three ready pods.
    await waitFor(async () => (await page.locator("svg.lines path").count()) === 3, "three service lines", 10_000, 100);
    await page.locator('[data-pod="default/frontend"]').hover();
    await page.getByRole("tooltip").getByText("tier=frontend").waitFor();
    await page.screenshot({ path: join(IMAGES, "dashboard.png") });

    // The link was spent: a second use is refused.
    const other = await b.context();
    try {
      const again = await gotoPage(await other.newPage(), link);
      expect(again!.status()).toBe(401);
      expect(await again!.text()).toContain("expired or was already used");
    } finally {
      await other.close();
    }
  });

  it("selecting a label highlights the pods its selector picks", async () => {
    await page.locator('[data-svc="default/backend-service"]').click();
    await waitFor(async () => (await page.locator("[data-pod].hit").count()) === 3, "three highlighted backends", 5_000, 50);
    expect(await page.locator('[data-pod="default/frontend"]').getAttribute("class")).toContain("dim");
    await page.getByRole("button", { name: "clear" }).click();
    await waitFor(async () => (await page.locator("[data-pod].dim").count()) === 0, "highlight cleared", 5_000, 50);
  });

  it("a scale from the page makes new pods appear on it", async () => {
    await page.locator('[data-rc="backend"]').getByRole("button", { name: "Scale…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Replicas").fill("5");
    await page.screenshot({ path: join(IMAGES, "dashboard-scale.png") });
    await dialog.getByRole("button", { name: "Scale" }).click();
    await page.locator('[data-rc="backend"] [data-testid="rc-desired"]', { hasText: "5" }).waitFor();
    await waitFor(async () => (await page.locator('[data-pod^="default/backend-"][data-phase="Running"]:not(.leaving)').count()) === 5, "five running backends on the page", 90_000, 200);
    const listed = berth("node", c.home, ["get", "pods", "-l", "tier=backend", "-o", "name"]).stdout.trim().split("\n");
    expect(listed).toHaveLength(5);
  });

  it("a Deployment made with kubectl shows desired / current / ready, its ReplicaSet beneath; a scale from the page changes its pods", async () => {
    const made = c.kubectl(["create", "deployment", "web", "--image=berth/busybox:latest", "--replicas=1", "--", "sleep", "3600"]);
    expect(made.code, made.stderr).toBe(0);
    const card = page.locator('[data-controller="Deployment/default/web"]');
    await card.getByTestId("rc-ready").filter({ hasText: "1" }).waitFor({ timeout: 90_000 });
    expect(await card.getByTestId("rc-desired").textContent()).toBe("1");
    expect(await card.getByTestId("rc-current").textContent()).toBe("1");
    // Its ReplicaSet is listed under it, and is scaled through the Deployment (no button of its own).
    const group = page.getByRole("group", { name: "deployment web and its replica sets" });
    const rs = group.locator('[data-controller^="ReplicaSet/default/web-"]');
    await rs.waitFor();
    expect(await rs.getByRole("button", { name: "Scale…" }).count()).toBe(0);
    // Its apps/v1 selector (matchLabels app=web) highlights its pod and no other.
    await card.locator(".rc-name").click();
    await waitFor(async () => (await page.locator("[data-pod].hit").count()) === 1 && (await page.locator('[data-pod^="default/web-"].hit').count()) === 1, "the deployment's pod highlighted", 5_000, 50);
    await page.getByRole("button", { name: "clear" }).click();

    await card.getByRole("button", { name: "Scale…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Replicas").fill("3");
    await dialog.getByRole("button", { name: "Scale" }).click();
    await card.getByTestId("rc-desired").filter({ hasText: "3" }).waitFor();
    await waitFor(async () => (await page.locator('[data-pod^="default/web-"][data-phase="Running"]:not(.leaving)').count()) === 3, "three running web pods on the page", 90_000, 200);
    await card.getByTestId("rc-ready").filter({ hasText: "3" }).waitFor({ timeout: 60_000 });
    expect(c.kubectl(["get", "deployment", "web", "-o", "jsonpath={.spec.replicas}"]).stdout).toBe("3");
    expect(c.kubectl(["get", "pods", "-l", "app=web", "-o", "name"]).stdout.trim().split("\n")).toHaveLength(3);
    await page.screenshot({ path: join(IMAGES, "dashboard-deployment.png") });
  });

  it("a pod deleted with kubectl disappears and its replacement appears", async () => {
    const before = await podNames();
    const victim = before[0].split("/")[1];
    const del = c.kubectl(["delete", "pod", victim, "--wait=false"]);
    expect(del.code, del.stderr).toBe(0);
    await waitFor(async () => (await page.locator(`[data-pod="default/${victim}"]`).count()) === 0, `${victim} gone from the page`, 60_000, 100);
    await waitFor(async () => {
      const now = await podNames();
      return now.length === 5 && !now.includes(`default/${victim}`) && now.some((n) => !before.includes(n));
    }, "a replacement on the page", 60_000, 200);
    const events = page.locator(".events li", { hasText: victim });
    await events.first().waitFor();
  });

  it("the log tail of a container shows its output", async () => {
    await page.locator('[data-pod="default/frontend"]').click();
    await page.getByRole("button", { name: "logs of client" }).click();
    await waitFor(async () => /backend-/.test((await page.getByTestId("log-text").textContent()) ?? ""), "the frontend's log with backend names", 30_000, 200);
    await page.screenshot({ path: join(IMAGES, "dashboard-logs.png") });
    await page.getByRole("button", { name: "Close", exact: true }).click();
  });

  it("is keyboard reachable: Tab reaches a pod and Enter opens it", async () => {
    await page.locator("body").click({ position: { x: 5, y: 790 } });
    let onPod = false;
    for (let i = 0; i < 40 && !onPod; i++) {
      await page.keyboard.press("Tab");
      onPod = await page.evaluate(() => !!(globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute("data-pod"));
    }
    expect(onPod).toBe(true);
    await page.keyboard.press("Enter");
    await page.locator("#h-details", { hasText: "Pod " }).waitFor();
  });

  it("cordon from the page marks the node, uncordon clears it", async () => {
    await page.locator('[data-node="node-2"] .node-name').click();
    await page.getByRole("button", { name: "Cordon…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cordon" }).click();
    await page.locator('[data-node="node-2"] .badge', { hasText: "Cordoned" }).waitFor();
    expect(c.kubectl(["get", "node", "node-2", "-o", "jsonpath={.spec.unschedulable}"]).stdout).toBe("true");
    await page.getByRole("button", { name: "Uncordon…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Uncordon" }).click();
    await waitFor(async () => (await page.locator('[data-node="node-2"] .badge', { hasText: "Cordoned" }).count()) === 0, "node-2 uncordoned", 10_000, 100);
  });

  it("StatefulSet, DaemonSet, Job, CronJob and PodDisruptionBudget cards show their numbers, selecting one highlights its pods, and a StatefulSet scales from the page", async () => {
    const applied = c.kubectl(["apply", "-f", "-"], { stdin: WORKLOADS });
    expect(applied.code, applied.stderr).toBe(0);
    const card = (id: string) => page.locator(`[data-controller="${id}"]`);
    // A count's whole text: "2" and not "12" (the counts and "2/2" hold no regex characters).
    const exactly = (n: number | string) => new RegExp(`^${n}$`);

    // The StatefulSet's two pods come up in order; every count reaches 2.
    const sts = card("StatefulSet/default/db");
    await sts.getByTestId("rc-ready").filter({ hasText: exactly(2) }).waitFor({ timeout: 90_000 });
    expect(await sts.locator(".badge").textContent()).toBe("STS");
    expect(await sts.getByTestId("rc-desired").textContent()).toBe("2");
    expect(await sts.getByTestId("rc-current").textContent()).toBe("2");
    await sts.getByTestId("rc-updated").filter({ hasText: exactly(2) }).waitFor();

    // The DaemonSet counts nodes: one pod on each of the two; it has no Scale button.
    const ds = card("DaemonSet/default/agent");
    await ds.getByTestId("rc-ready").filter({ hasText: exactly(2) }).waitFor({ timeout: 60_000 });
    expect(await ds.locator(".badge").textContent()).toBe("DS");
    expect(await ds.getByTestId("rc-desired").textContent()).toBe("2");
    expect(await ds.getByTestId("rc-current").textContent()).toBe("2");
    expect(await ds.getByRole("button", { name: "Scale…" }).count()).toBe(0);

    // The Job runs its two completions one after the other, then says Complete.
    const job = card("Job/default/once");
    await job.getByTestId("job-condition").filter({ hasText: "Complete" }).waitFor({ timeout: 90_000 });
    expect(await job.locator(".badge").first().textContent()).toBe("Job");
    expect(await job.getByTestId("job-completions").textContent()).toBe("2/2");
    expect(await job.getByTestId("job-active").textContent()).toBe("0");
    expect(await job.getByTestId("job-failed").textContent()).toBe("0");
    expect(await job.getByRole("button", { name: "Scale…" }).count()).toBe(0);

    // The budget wants both of the StatefulSet's pods: no disruption allowed, shown as a warning.
    const pdb = card("PodDisruptionBudget/default/db");
    await pdb.getByTestId("pdb-healthy").filter({ hasText: exactly("2/2") }).waitFor({ timeout: 30_000 });
    expect(await pdb.locator(".badge").textContent()).toBe("PDB");
    expect(await pdb.getByTestId("pdb-rule").textContent()).toBe("min available 2");
    expect(await pdb.getByTestId("pdb-allowed").textContent()).toBe("0");
    await pdb.getByTestId("pdb-warning").waitFor();
    // The warning's colours pass AA too (the page-wide check below runs once it has gone).
    expect(await page.evaluate(CONTRAST_CHECK)).toEqual([]);

    // Selecting a card highlights the pods its selector picks, and no other.
    for (const [id, prefix] of [["StatefulSet/default/db", "default/db-"], ["DaemonSet/default/agent", "default/agent-"], ["Job/default/once", "default/once-"], ["PodDisruptionBudget/default/db", "default/db-"]]) {
      await card(id).locator(".rc-name").click();
      await waitFor(async () => (await page.locator("[data-pod].hit").count()) === 2 && (await page.locator(`[data-pod^="${prefix}"].hit`).count()) === 2, `the pods of ${id} highlighted`, 5_000, 50);
      await page.getByRole("button", { name: "clear" }).click();
    }

    // Scale… on the StatefulSet (its /scale subresource): a third pod, and the budget allows one disruption.
    await sts.getByRole("button", { name: "Scale…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Replicas").fill("3");
    await dialog.getByRole("button", { name: "Scale" }).click();
    await sts.getByTestId("rc-desired").filter({ hasText: exactly(3) }).waitFor();
    await sts.getByTestId("rc-ready").filter({ hasText: exactly(3) }).waitFor({ timeout: 90_000 });
    expect(c.kubectl(["get", "statefulset", "db", "-o", "jsonpath={.spec.replicas}"]).stdout).toBe("3");
    await page.locator('[data-pod="default/db-2"][data-phase="Running"]').waitFor();
    await pdb.getByTestId("pdb-allowed").filter({ hasText: exactly(1) }).waitFor({ timeout: 30_000 });
    expect(await pdb.getByTestId("pdb-healthy").textContent()).toBe("3/2");
    expect(await pdb.getByTestId("pdb-warning").count()).toBe(0);

    // The CronJob is suspended (no run at the next whole minute, which would cost the suite up to
    // 60 s); a run made from it by hand is listed beneath it, active: its container sleeps.
    const cj = card("CronJob/default/tick");
    expect(await cj.locator(".badge").first().textContent()).toBe("CronJob");
    expect(await cj.getByTestId("cj-schedule").textContent()).toBe("* * * * *");
    await cj.getByTestId("cj-suspended").waitFor();
    expect(await cj.getByTestId("cj-last").textContent()).toBe("never");
    const made = c.kubectl(["create", "job", "tick-now", "--from=cronjob/tick"]);
    expect(made.code, made.stderr).toBe(0);
    const group = page.getByRole("group", { name: "cron job tick and its jobs" });
    const run = group.locator('[data-controller="Job/default/tick-now"]');
    await run.waitFor({ timeout: 30_000 });
    await run.getByTestId("job-active").filter({ hasText: exactly(1) }).waitFor({ timeout: 60_000 });
    const resumed = c.kubectl(["patch", "cronjob", "tick", "-p", '{"spec":{"suspend":false}}']);
    expect(resumed.code, resumed.stderr).toBe(0);
    await cj.getByTestId("cj-suspended").waitFor({ state: "detached" });
    expect(c.kubectl(["patch", "cronjob", "tick", "-p", '{"spec":{"suspend":true}}']).code).toBe(0);
    await cj.getByTestId("cj-suspended").waitFor();
    await page.screenshot({ path: join(IMAGES, "dashboard-workloads.png") });
  }, 300_000);

  it("text passes WCAG AA contrast, at 1280×800 and in a narrow window", async () => {
    for (const size of [{ width: 1280, height: 800 }, { width: 420, height: 900 }]) {
      await page.setViewportSize(size);
      const failures = (await page.evaluate(CONTRAST_CHECK)) as string[];
      expect(failures).toEqual([]);
      const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      expect(overflow).toBeLessThanOrEqual(0);
    }
    await page.screenshot({ path: join(IMAGES, "dashboard-narrow.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("deleting the StatefulSet, DaemonSet, Job, CronJob and budget with kubectl takes their cards and pods off the page", async () => {
    const del = c.kubectl(["delete", ...WORKLOAD_OBJECTS, "--wait=false"]);
    expect(del.code, del.stderr).toBe(0);
    const cards = page.locator(["StatefulSet", "DaemonSet", "Job", "CronJob", "PodDisruptionBudget"].map((k) => `[data-controller^="${k}/"]`).join(", "));
    await waitFor(async () => (await cards.count()) === 0, "their cards gone", 30_000, 100);
    expect(await page.locator("#h-budgets").count()).toBe(0);
    const pods = page.locator(["db-", "agent-", "once-", "tick-"].map((p) => `[data-pod^="default/${p}"]`).join(", "));
    await waitFor(async () => (await pods.count()) === 0, "their pods gone from the page", 90_000, 200);
  }, 120_000);

  it("the page fetched nothing but the cluster's own API", () => {
    expect(offsite).toEqual([]);
  });
});

/** What WORKLOADS makes, as kubectl names it. */
const WORKLOAD_OBJECTS = ["statefulset/db", "daemonset/agent", "job/once", "cronjob/tick", "poddisruptionbudget/db"];

/** The workloads of the case on StatefulSets, DaemonSets, Jobs, CronJobs and budgets: busybox, stopped within a second. */
const WORKLOADS = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: db, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sleep, "3600"]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: agent, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sleep, "3600"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  completions: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - {name: once, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sh, -c, "echo done"]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "* * * * *"
  suspend: true
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - {name: tick, image: "berth/busybox:latest", imagePullPolicy: Never, command: [sleep, "3600"]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: db}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: db}}
`;

/**
 * Every visible text node's colour against its effective background (the first opaque
 * background among its ancestors), by the WCAG 2 relative-luminance formula: 4.5:1 for normal
 * text, 3:1 for large (24px, or 18.66px bold). Returns the failures. A string: it runs in the
 * page, and this file is type-checked without the DOM library.
 */
const CONTRAST_CHECK = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a >= 0.99) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || st.display === "none" || el.closest("[aria-hidden=true]")) continue;
    let op = 1; for (let e = el; e; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
    if (op < 0.99) continue; // dimmed on purpose (highlighting, leaving pods): not body text
    const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
    const fg = parse(st.color), bg = bgOf(el);
    const L1 = lum(fg), L2 = lum(bg);
    const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push(n.textContent.trim().slice(0, 30) + " " + ratio.toFixed(2) + " < " + need + " (" + st.color + " on " + JSON.stringify(bg) + ")");
  }
  return out;
})()`;
