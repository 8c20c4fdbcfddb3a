/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`,
 * driven by `playwright-core`) opens the admin listener's page of a real lb
 * with two pools, sees every backend, sees a killed backend go down with
 * its reason, drains one and takes one out for maintenance from the page
 * (token entered in the page), and saves a screenshot to
 * `test-artifacts/dashboard.png`. Skips, saying so, without Chromium.
 */

import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { chromiumInstalled, launchChromium } from "./_browser.ts";
import { httpServer } from "./_http.ts";
import { startLb } from "./_lb.ts";

const TOKEN = "dashboard-test-token-0123456789";
const haveChromium = chromiumInstalled("dashboard_browser_test");

/** A backend that answers after a few ms; `a2` holds `/api/slow` until released. */
function backend(name: string, hold: Promise<void>) {
  return httpServer(async (req) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/slow") && name === "a2") await hold;
    else await new Promise((r) => setTimeout(r, 1 + Math.random() * (name === "a1" ? 12 : 4)));
    return new Response(`${name}\n`);
  });
}

/** Page-side: the state word shown in the row of `url` (null while there is no row). */
const stateOf = (url: string) =>
  `(document.querySelector('tr[data-url="${url}"] .state')?.textContent ?? null)`;

/**
 * Polls a page-side expression until it is true. Not `page.waitForFunction`:
 * that evaluates a string with `eval` inside the page, which the
 * dashboard's Content-Security-Policy (rightly) forbids; `page.evaluate`
 * goes through the DevTools protocol.
 */
async function until(page: Page, expression: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${expression}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function waitState(page: Page, url: string, state: string, timeout: number): Promise<void> {
  await until(page, `${stateOf(url)} === ${JSON.stringify(state)}`, timeout);
}

Deno.test({
  name: "dashboard in a browser: both pools listed, a killed backend goes down, drain and " +
    "maintenance from the page",
  ignore: !haveChromium,
  async fn() {
    let release!: () => void;
    const hold = new Promise<void>((r) => release = r);
    await using a1 = backend("a1", hold);
    await using a2 = backend("a2", hold);
    await using a3 = backend("a3", hold);
    await using w1 = backend("w1", hold);
    const w2 = backend("w2", hold);
    let w2Open = true;
    const dir = await Deno.makeTempDir();
    const config = `${dir}/lb.json`;
    const health = { "health-interval": "250ms", "health-fall": 2, "health-rise": 1 };
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        pools: {
          api: { backends: [a1.origin, a2.origin, a3.origin], strategy: "round-robin", ...health },
          web: { backends: [w1.origin, w2.origin], strategy: "least-connections", ...health },
        },
        routes: [
          { name: "api", match: { "path-prefix": "/api" }, pool: "api" },
          { name: "web", match: { "path-prefix": "/" }, pool: "web" },
        ],
      }),
    );
    await using lb = await startLb([], ["--config", config, "--admin-token", TOKEN]);

    // Some traffic, so the rates and charts have something to show.
    let traffic = true;
    const load = Array.from({ length: 3 }, async (_, i) => {
      while (traffic) {
        const res = await fetch(`${lb.url}${i === 0 ? "/web/page" : "/api/items"}`)
          .catch(() => undefined);
        await res?.body?.cancel();
        await new Promise((r) => setTimeout(r, 15));
      }
    });
    // A request a2 holds, so a2 stays draining (it leaves once idle).
    const held = (async () => {
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${lb.url}/api/slow`);
        if ((await res.text()) === "a2\n") return;
      }
    })();

    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        // The weight refused on purpose below logs its 400; anything else is a problem.
        if (m.type() === "error" && !/status of 400/.test(m.text())) problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("dialog", (d) => void d.accept());
      await page.goto(`${lb.adminUrl}/dashboard`);

      // Every backend of both pools.
      await until(page, `document.querySelectorAll("tr[data-url]").length === 5`, 10_000);
      for (const b of [a1, a2, a3, w1, w2]) await waitState(page, b.origin, "up", 5000);
      const captions = await page.evaluate(
        `[...document.querySelectorAll("#pools caption")].map((c) => c.textContent)`,
      ) as string[];
      assert.equal(captions.length, 2);
      assert.match(captions[0], /^Pool api — round-robin, 3 of 3/);
      assert.match(captions[1], /^Pool web — least-connections, 2 of 2/);

      // Keyboard and screen readers: Tab reaches the skip link first; the charts are images
      // whose titles give the latest values.
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(`document.activeElement.className`), "skip");
      await until(
        page,
        `document.getElementById("chart-requests-title").textContent.includes("now req/s")`,
      );
      const charts = await page.evaluate(
        `[...document.querySelectorAll("svg[role=img]")].map((s) => s.getAttribute("aria-labelledby"))`,
      ) as string[];
      assert.deepEqual(charts, [
        "chart-requests-title",
        "chart-errors-title",
        "chart-latency-title",
      ]);

      // A backend killed shows as down, with its reason, within 2 s.
      await w2.server.shutdown();
      w2Open = false;
      const killedAt = Date.now();
      await waitState(page, w2.origin, "down", 2000);
      console.log(`killed backend shown down after ${Date.now() - killedAt} ms`);
      const reason = await page.evaluate(
        `document.querySelector('tr[data-url="${w2.origin}"] .reason').textContent`,
      ) as string;
      assert.notEqual(reason, "");
      assert.notEqual(reason, "starting");

      // Actions with the token entered in the page.
      await page.fill("#token", TOKEN);
      await page.click("#token-form button[type=submit]");
      assert.equal(await page.inputValue("#token"), "", "the field is emptied once used");
      await until(
        page,
        `document.querySelector('tr[data-url="${a2.origin}"] td[data-label="In flight"]')` +
          `.textContent === "1"`,
        5000,
      );
      await page.click(`button[aria-label="Drain ${a2.origin} in pool api"]`);
      await waitState(page, a2.origin, "draining", 3000);
      await until(page, `/done \\(202\\)/.test(document.getElementById("result").textContent)`);
      await page.click(`tr[data-url="${a3.origin}"] button.maintenance`);
      await waitState(page, a3.origin, "maintenance", 3000);

      // A refused action shows the API's error text.
      await page.fill(`tr[data-url="${a1.origin}"] input[type=number]`, "5000");
      await page.click(`button[aria-label="Set weight of ${a1.origin} in pool api"]`);
      await until(
        page,
        `/refused \\(400\\): "weight" must be a whole number from 1 to 1000/` +
          `.test(document.getElementById("result").textContent)`,
        3000,
      );
      await page.fill(`tr[data-url="${a1.origin}"] input[type=number]`, "3");
      await page.click(`button[aria-label="Set weight of ${a1.origin} in pool api"]`);
      await until(
        page,
        `document.querySelector('tr[data-url="${a1.origin}"] td[data-label="Weight (effective)"]')` +
          `.textContent === "3"`,
        3000,
      );

      // The event list has the flip, the drain, the maintenance and the weight change.
      await until(
        page,
        `(() => { const t = document.getElementById("events").textContent;
          return ["down", "draining", "maintenance-on", "weight 1 → 3"].every((w) => t.includes(w)); })()`,
        3000,
      );

      // Let the charts fill a little, then the screenshot.
      await new Promise((r) => setTimeout(r, 6000));
      await Deno.mkdir("test-artifacts", { recursive: true });
      await page.screenshot({ path: "test-artifacts/dashboard.png", fullPage: true });

      // On a phone: one card per backend, nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await until(page, `document.documentElement.scrollWidth <= 391`, 2000);
      await page.screenshot({ path: "test-artifacts/dashboard-phone.png", fullPage: true });
      assert.deepEqual(problems, [], "no console errors (a CSP violation would be one)");
    } finally {
      await browser.close();
      traffic = false;
      release();
      await Promise.all(load);
      await held;
      if (w2Open) await w2.server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
