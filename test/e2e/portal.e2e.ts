/**
 * The web portal in a real headless Chromium (Debian's `chromium`, driven by `playwright-core`)
 * against the gateway under `wrangler dev` and the independent Meta fake: sign in, upload a CSV,
 * follow the campaign to completed while the fake posts signed status webhooks, download the
 * report, open the performance details, send one message, connect MM Lite through the OBO step;
 * CSRF and cross-bot access refused. Screenshots of every page go to test/screenshots/portal/
 * (gitignored).
 *
 * Skips (saying why) when /usr/bin/chromium is missing; `.ci/run` installs it.
 * `MMLITE_E2E_CHROMIUM=/path` uses another Chromium binary.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMeta, type RecordedRequest, statusNotification } from "./fake-meta";
import { admin, call, createBot, graphIds, TEMPLATES, type TestBot } from "./helpers";
import { type Gateway, startGateway } from "./wrangler";

// MMLITE_E2E_CHROMIUM: another binary (e.g. a missing path, to see the skip).
const CHROMIUM = process.env.MMLITE_E2E_CHROMIUM ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const SKIP_REASON = `${CHROMIUM} is missing — install Debian's chromium (apt-get install -y chromium) to run the portal browser tests`;
if (!HAVE_CHROMIUM) console.warn(`portal e2e skipped: ${SKIP_REASON}`);

const SHOTS = resolve(import.meta.dirname, "../screenshots/portal");
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let fake: FakeMeta;
let gw: Gateway;
let browser: Browser;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  fake = await FakeMeta.start();
  gw = await startGateway({ graphUrl: fake.graphUrl("v25.0"), metaAccessToken: fake.accessToken });
  // Flags from docs/toolchain.md (no network outside loopback here). Playwright starts Chromium with
  // a new, empty --user-data-dir of its own (a temp dir, removed on close); every context is fresh.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await fake?.close();
});

/** Waits (bounded) until the element's text contains `want` (a string or a pattern). */
async function contains(locator: Locator, want: string | RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  for (;;) {
    text =
      (await locator
        .first()
        .textContent({ timeout: Math.max(1, deadline - Date.now()) })
        .catch(() => "")) ?? "";
    if (typeof want === "string" ? text.includes(want) : want.test(text)) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(text, `text of ${locator}`).toContain(want);
}

/** Waits (bounded) until the element's whole text is `want`. */
async function hasText(locator: Locator, want: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let text = "";
  for (;;) {
    text =
      (
        await locator
          .first()
          .textContent({ timeout: Math.max(1, deadline - Date.now()) })
          .catch(() => "")
      )?.trim() ?? "";
    if (text === want) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(text, `text of ${locator}`).toBe(want);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function newContext(viewport = DESKTOP): Promise<BrowserContext> {
  return browser.newContext({ viewport, acceptDownloads: true, locale: "en-US", timezoneId: "UTC" });
}

async function signIn(page: Page, apiKey: string, base = gw.url): Promise<void> {
  await page.goto(`${base}/portal/campaigns`);
  expect(new URL(page.url()).pathname).toBe("/portal/sign-in");
  await page.getByLabel("API key").fill(apiKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/portal/campaigns`);
}

/** A bot whose WABA is On-Behalf-Of at the gateway and not eligible at Meta because of it. */
async function oboBot(): Promise<TestBot> {
  const ids = graphIds();
  fake.upsertWaba({
    id: ids.wabaId,
    onboardingStatus: "INELIGIBLE_ON_BEHALF_OF_WABA",
    phoneNumbers: [{ id: ids.phoneNumberId }],
    templates: TEMPLATES,
  });
  const r = await admin(gw, "POST", "/admin/bots", {
    body: { name: "Loja OBO", ...ids, wabaType: "obo" },
  });
  expect(r.status, r.text).toBe(201);
  return { id: r.json.id, apiKey: r.json.apiKey, ...ids, created: r.json };
}

/** Posts Meta's status webhooks for accepted sends, signed as Meta signs them. */
async function webhook(bot: TestBot, statuses: Parameters<typeof statusNotification>[0]["statuses"]) {
  const res = await fake.postWebhook(
    `${gw.url}/webhooks/meta`,
    statusNotification({ wabaId: bot.wabaId, phoneNumberId: bot.phoneNumberId, statuses }),
  );
  expect(res.status, await res.text()).toBe(200);
}

/** Reloads until `check` holds (webhook effects show "within a few seconds"). */
async function reloadUntil(page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 750));
    await page.reload();
  }
}

const AUDIENCE = [
  "phone,first_name,until",
  "+5511999990001,Ana,15/08",
  "+55 11 99999-0002,Bia,16/08",
  "+5511999990003,Caio,17/08",
  "+5511999990004,Duda,18/08",
  "12ab,Edu,19/08",
  "+5511999990001,Ana,15/08",
  "+5511999990005,only one parameter",
  "+5511999990006,Fabi,20/08",
  "+5511999990007,Gabi,21/08",
].join("\n");

describe.skipIf(!HAVE_CHROMIUM)(
  HAVE_CHROMIUM ? "portal in headless Chromium" : `portal in headless Chromium (skipped: ${SKIP_REASON})`,
  () => {
    it("signs in, uploads a CSV, follows the campaign to completed, downloads the report, opens performance details", async () => {
      const bot = await createBot(gw, fake, { onboarding: "ONBOARDED", throughputMps: 1 });
      const ctx = await newContext();
      const page = await ctx.newPage();

      // Sign-in: the form, a wrong key, then the right one.
      await page.goto(`${gw.url}/portal`);
      await page.waitForURL(/\/portal\/sign-in/);
      await shot(page, "01-sign-in");
      await page.getByLabel("API key").fill(`${bot.apiKey.slice(0, -3)}xyz`);
      await page.getByRole("button", { name: "Sign in" }).click();
      await contains(page.getByRole("alert"), "That API key is not valid.");
      await shot(page, "02-sign-in-refused");
      await page.getByLabel("API key").fill(bot.apiKey);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${gw.url}/portal/campaigns`);
      await hasText(page.getByRole("heading", { level: 1 }), "Active messages");
      await shot(page, "03-campaigns-empty");

      // The session cookie as the browser stored it (Secure is kept on http://127.0.0.1).
      const cookies = await ctx.cookies(gw.url);
      const session = cookies.find((c) => c.name === "__Host-mmlite_portal");
      expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/" });
      expect(session?.expires).toBeGreaterThan(Date.now() / 1000 + 7 * 3600);

      // Send active message → bulk → an approved template (PENDING ones are not offered).
      await page.getByRole("link", { name: "Send active message" }).first().click();
      const options = await page.locator("#template option").allTextContents();
      expect(options.some((o) => o.startsWith("fall_sale (pt_BR)"))).toBe(true);
      expect(options.some((o) => o.startsWith("pending_promo"))).toBe(false);
      await page.getByLabel("Bulk: upload a CSV file").check();
      await page.getByLabel("Approved template").selectOption("fall_sale:pt_BR");
      await shot(page, "04-send-choose-template");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByRole("heading", { name: "Campaign and audience" }).waitFor({ state: "visible" });

      // The sample CSV for the template.
      const [sample] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("link", { name: "Download a sample CSV for this template" }).click(),
      ]);
      expect(sample.suggestedFilename()).toBe("sample-fall_sale.csv");
      expect(readFileSync(await sample.path(), "utf8").split("\r\n")[0]).toBe("phone,param_1,param_2");

      await page.getByLabel("Campaign name").fill("Black Friday");
      await page
        .getByLabel("CSV file")
        .setInputFiles({ name: "audience.csv", mimeType: "text/csv", buffer: Buffer.from(AUDIENCE) });
      await shot(page, "05-send-bulk-form");
      await page.getByRole("button", { name: "Upload and send" }).click();

      // The intake: 6 queued, 2 rows skipped (with their line numbers), 1 duplicate.
      await hasText(page.getByRole("heading", { level: 1 }), "Campaign started");
      const kpis = await page.locator(".kpis li").allInnerTexts();
      expect(kpis.map((k) => k.replace(/\s+/g, " "))).toEqual([
        "6 Recipients queued",
        "2 Rows skipped",
        "1 Duplicates dropped",
      ]);
      const skipped = await page.locator("#invalid-rows tbody tr").allInnerTexts();
      expect(skipped.map((r) => r.replace(/\s+/g, " ").trim())).toEqual([
        "6 12ab Not a valid phone number",
        "8 +5511999990005 Wrong number of template parameters",
      ]);
      await shot(page, "06-send-bulk-result");

      // Performance details while sending: the page refreshes itself (meta refresh, no script).
      await page.getByRole("link", { name: "View performance details" }).click();
      const campaignId = new URL(page.url()).pathname.split("/").pop() as string;
      expect(campaignId).toMatch(/^cmp_/);
      const sendingSeen = (await page.locator(".badge.sending").count()) > 0;
      if (sendingSeen) {
        expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("5");
        await shot(page, "07-details-sending");
      }
      await page.locator(".badge.completed").first().waitFor({ timeout: 60_000 });
      expect(await page.locator('meta[http-equiv="refresh"]').count()).toBe(0);

      // Meta's status webhooks: 5 delivered (3 read), 1 failed; MM Lite confirmed by pricing.
      const sends = fake.acceptedSends(bot.phoneNumberId);
      expect(sends.length).toBe(6);
      expect(sends.every((s) => s.kind === "send_mm_lite")).toBe(true);
      const byTo = new Map(sends.map((s: RecordedRequest) => [s.body.to as string, s.wamid as string]));
      const st = (to: string, status: "sent" | "delivered" | "read" | "failed", extra = {}) => ({
        wamid: byTo.get(to) as string,
        recipientId: to,
        status,
        pricingCategory: "marketing_lite",
        ...extra,
      });
      const delivered = ["5511999990001", "5511999990002", "5511999990003", "5511999990004", "5511999990006"];
      await webhook(
        bot,
        delivered.map((to) => st(to, "sent")),
      );
      await webhook(
        bot,
        delivered.map((to) => st(to, "delivered")),
      );
      await webhook(
        bot,
        delivered.slice(0, 3).map((to) => st(to, "read")),
      );
      const failedTo = [...byTo.keys()].find((to) => !delivered.includes(to)) as string;
      await webhook(bot, [
        st(failedTo, "failed", {
          pricingCategory: undefined,
          errors: [
            {
              code: 131049,
              title: "This message was not delivered to maintain healthy ecosystem engagement.",
            },
          ],
        }),
      ]);
      await reloadUntil(
        page,
        async () =>
          (await page.locator('#funnel g[data-stage="read"] text').last().textContent()) === "3 · 50%" &&
          (await page.locator("#errors").textContent())?.includes("131049") === true,
        "the webhooks to show in the performance details",
      );
      await hasText(
        page.locator("#funnel desc"),
        "Of 6 recipients, 6 accepted (100%), 5 sent (83.3%), 5 delivered (83.3%), 3 read (50%).",
      );
      await contains(page.locator("#routes desc"), "Confirmed by Meta: 5 through the MM Lite API");
      await page.getByRole("img", { name: "Delivery funnel" }).waitFor({ state: "visible" });
      await page.getByRole("img", { name: "Timeline of the campaign" }).waitFor({ state: "visible" });
      await shot(page, "08-details-completed");
      await page.setViewportSize(PHONE);
      await shot(page, "09-details-phone");
      await page.setViewportSize(DESKTOP);

      // The campaign list: name, template, route with reason, status, progress, created; actions.
      await page.getByRole("link", { name: "Active messages" }).first().click();
      const row = page.locator(`tr[data-campaign="${campaignId}"]`);
      await contains(row, "Black Friday");
      await contains(row, "fall_sale");
      await contains(row, "MM Lite API");
      await contains(row, "MM Lite was activated for this campaign");
      await contains(row, "Completed");
      await contains(row, "6 of 6 processed");
      await row.getByText("Actions").click();
      await shot(page, "10-campaigns-actions");
      await page.setViewportSize(PHONE);
      await shot(page, "11-campaigns-phone");
      await page.setViewportSize(DESKTOP);

      const [report] = await Promise.all([
        page.waitForEvent("download"),
        row.getByRole("link", { name: "Download report" }).click(),
      ]);
      expect(report.suggestedFilename()).toBe(`campaign-${campaignId}.csv`);
      const csv = readFileSync(await report.path(), "utf8")
        .trim()
        .split("\r\n");
      expect(csv[0]).toBe(
        "phone,status,route,route_reason,confirmed_route,wamid,error_code,error_title,accepted_at,sent_at,delivered_at,read_at,failed_at",
      );
      expect(csv.length).toBe(1 + 8); // 6 recipients + 2 invalid rows
      expect(csv.filter((l) => l.includes(",read,mm_lite,")).length).toBe(3);
      expect(csv.filter((l) => l.includes(",failed,") && l.includes(",131049,")).length).toBe(1);
      expect(csv.filter((l) => l.includes(",invalid,")).length).toBe(2);

      // The menu is still open after the download.
      expect(await row.locator("details.menu").getAttribute("open")).not.toBeNull();
      await row.getByRole("link", { name: "View performance details" }).click();
      await page.waitForURL(`${gw.url}/portal/campaigns/${campaignId}`);
      await ctx.close();
    }, 240_000);

    it("sends one active message to one number", async () => {
      const bot = await createBot(gw, fake, { onboarding: "ELIGIBLE" });
      const ctx = await newContext(PHONE);
      const page = await ctx.newPage();
      await signIn(page, bot.apiKey);
      await page.getByRole("link", { name: "Send active message" }).first().click();
      await page.getByLabel("Individual: one phone number").check();
      await page.getByLabel("Approved template").selectOption("order_update:pt_BR");
      await page.getByRole("button", { name: "Continue" }).click();
      await page.getByLabel("Phone number").fill("11 99999-0042");
      await page.getByLabel("Parameter {{1}}").fill("#1234");
      await page.getByLabel("Parameter {{2}}").fill("shipped");
      await shot(page, "12-send-individual-phone");
      await page.getByRole("button", { name: "Send message" }).click();
      await contains(page.getByRole("status").first(), "Your message is queued.");
      await fake.waitFor(() => fake.acceptedSends(bot.phoneNumberId).length === 1, 30_000, "the send");
      const sent = fake.acceptedSends(bot.phoneNumberId)[0] as RecordedRequest;
      expect(sent.kind).toBe("send_cloud"); // a UTILITY template
      expect(sent.body.to).toBe("5511999990042");
      await page.locator(".badge.completed").first().waitFor({ timeout: 30_000 });
      await contains(page.locator("h1"), "order_update → +5511999990042");
      await shot(page, "13-details-individual-phone");
      await ctx.close();
    }, 120_000);

    it("connects the MM Lite API through the On-Behalf-Of migration step, then shows the status panel", async () => {
      const bot = await oboBot();
      const ctx = await newContext();
      const page = await ctx.newPage();
      await signIn(page, bot.apiKey);
      await page.getByRole("link", { name: "MM Lite API", exact: true }).click();
      await contains(page.locator("#status-title"), "Inactive");
      await contains(page.locator("main"), "INELIGIBLE_ON_BEHALF_OF_WABA");
      await shot(page, "14-mm-lite-inactive");

      await page.getByRole("link", { name: "Connect MM Lite API" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Permission");
      await shot(page, "15-connect-1-permission");
      await page.getByRole("button", { name: "Continue" }).click(); // required checkbox: the browser stops it
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Permission");
      await page.getByLabel("I allow the information sharing").check();
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Business");
      await shot(page, "16-connect-2-business");
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: WhatsApp numbers");
      await shot(page, "17-connect-3-numbers");
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Ad accounts");
      await page.getByLabel("Ad accounts").fill("act_1234567890, act_42");
      await shot(page, "18-connect-4-ad-accounts");
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Review");
      await contains(page.locator("main"), "On-Behalf-Of");
      await shot(page, "19-connect-5-review");
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: WABA migration");
      await contains(page.locator("main"), "cannot be undone");
      await shot(page, "20-connect-6-migration");
      await page.getByLabel(`I accept the migration of account ${bot.wabaId}`).check();
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Final acceptance");
      await shot(page, "21-connect-7-final");
      await page.getByLabel("I have reviewed this information").check();
      await page.getByRole("button", { name: "Connect MM Lite API" }).click();

      await page.waitForURL(`${gw.url}/portal/mm-lite?connected=1`);
      await contains(page.locator("#status-title"), "Syncing");
      await contains(page.locator("main"), "migrated from On-Behalf-Of");
      await contains(page.locator("main"), "act_1234567890, act_42");
      await contains(page.locator("main"), /in about 2[34] h/);
      await shot(page, "22-mm-lite-syncing");

      // The API says the same.
      const status = await call(gw, "GET", "/v1/mm-lite/status", { key: bot.apiKey });
      expect(status.json.state).toBe("syncing");
      await ctx.close();
    }, 120_000);

    it("skips the migration step for a shared WABA and shows an active WABA as active", async () => {
      const bot = await createBot(gw, fake, { onboarding: "ONBOARDED" });
      const ctx = await newContext();
      const page = await ctx.newPage();
      await signIn(page, bot.apiKey);
      await page.goto(`${gw.url}/portal/mm-lite`);
      await contains(page.locator("#status-title"), "Active");
      await shot(page, "23-mm-lite-active");
      await page.goto(
        `${gw.url}/portal/mm-lite/connect?step=review&permission=yes&business=${bot.businessId}&numbers=${bot.phoneNumberId}&ads=act_1`,
      );
      await page.getByRole("button", { name: "Continue" }).click();
      await hasText(page.getByRole("heading", { level: 1 }), "Connect MM Lite API: Final acceptance");
      expect(await page.locator("ol.steps li").allTextContents()).not.toContain("WABA migration");
      await ctx.close();
    }, 90_000);

    it("refuses forged and cross-origin posts (CSRF) and another bot's campaigns", async () => {
      const victim = await createBot(gw, fake, { onboarding: "ELIGIBLE" });
      const other = await createBot(gw, fake, { onboarding: "ELIGIBLE" });
      const made = await call(gw, "POST", "/v1/campaigns", {
        key: other.apiKey,
        body: {
          name: "Other bot's campaign",
          template: { name: "fall_sale", language: "pt_BR" },
          audience: [{ to: "+5511999990077", params: ["Ana", "15/08"] }],
        },
      });
      expect(made.status, made.text).toBe(202);

      const ctx = await newContext();
      const page = await ctx.newPage();
      await signIn(page, victim.apiKey);

      // Cross-bot: another bot's campaign and report are 404s, never listed.
      const details = await page.goto(`${gw.url}/portal/campaigns/${made.json.id}`);
      expect(details?.status()).toBe(404);
      await contains(page.locator("main"), "There is no such campaign for this bot.");
      expect(await page.locator("main").textContent()).not.toContain("Other bot's campaign");
      await shot(page, "24-cross-bot-404");
      const report = await page.goto(`${gw.url}/portal/campaigns/${made.json.id}/report.csv`);
      expect(report?.status()).toBe(404);

      // A form without its token (removed through DevTools: the page itself runs no script).
      await page.goto(`${gw.url}/portal/send?audience=individual&template=fall_sale:pt_BR`);
      const token = (await page
        .locator('form[action="/portal/send/individual"] input[name="_csrf"]')
        .inputValue()) as string;
      expect(token.length).toBeGreaterThan(20);
      await page.getByLabel("Phone number").fill("+5511999990099");
      await page.getByLabel("Parameter {{1}}").fill("Ana");
      await page.getByLabel("Parameter {{2}}").fill("15/08");
      await page
        .locator('form[action="/portal/send/individual"] input[name="_csrf"]')
        .evaluate((el) => el.remove());
      const [noToken] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/portal/send/individual")),
        page.getByRole("button", { name: "Send message" }).click(),
      ]);
      expect(noToken.status()).toBe(403);
      await contains(page.locator("main"), "security token");
      await shot(page, "25-csrf-missing-token");

      // Another origin on the same site (127.0.0.1, another port): the Strict cookie goes along,
      // and even with the victim's real token the post is refused (Sec-Fetch-Site / Origin).
      const attacker = await serveAttacker(gw.url, token, "127.0.0.1");
      try {
        await page.goto(attacker.url);
        const [sameSite] = await Promise.all([
          page.waitForResponse((r) => r.url().endsWith("/portal/send/individual")),
          page.getByRole("button", { name: "Win a prize" }).click(),
        ]);
        expect(sameSite.request().headers().origin).toBe(new URL(attacker.url).origin);
        expect(sameSite.status()).toBe(403);
        await contains(page.locator("main"), "did not come from the portal");
        await shot(page, "26-csrf-cross-origin");
      } finally {
        await attacker.close();
      }

      // Another site (localhost ≠ 127.0.0.1): the Strict cookie stays home; no session, no send.
      const crossSite = await serveAttacker(gw.url, token, "localhost");
      try {
        await page.goto(crossSite.url);
        await page.getByRole("button", { name: "Win a prize" }).click();
        await page.waitForURL(/\/portal\/sign-in/);
      } finally {
        await crossSite.close();
      }

      // Nothing of the above reached Meta, and the victim still has no campaign.
      expect(fake.sends(victim.phoneNumberId)).toEqual([]);
      const list = await call(gw, "GET", "/v1/campaigns", { key: victim.apiKey });
      expect(list.json.items).toEqual([]);
      await ctx.close();
    }, 120_000);

    it("keeps the Secure session cookie on http://localhost too, and signs out", async () => {
      const bot = await createBot(gw, fake, {});
      const base = `http://localhost:${gw.port}`;
      const ctx = await newContext();
      const page = await ctx.newPage();
      await signIn(page, bot.apiKey, base);
      const cookie = (await ctx.cookies(base)).find((c) => c.name === "__Host-mmlite_portal");
      expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: "Strict", domain: "localhost" });
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${base}/portal/sign-in?signed_out=1`);
      await contains(page.getByRole("status"), "You are signed out.");
      await shot(page, "27-signed-out");
      // Signed out for good: the pages send back to the sign-in form.
      await page.goto(`${base}/portal/campaigns`);
      await page.waitForURL(/\/portal\/sign-in\?next=/);
      await ctx.close();
    }, 90_000);
  },
);

/** A page on another origin with a form that posts to the portal (what a CSRF attack looks like). */
async function serveAttacker(
  target: string,
  token: string,
  host: "127.0.0.1" | "localhost",
): Promise<{ url: string; close(): Promise<void> }> {
  const action = `${target}/portal/send/individual`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Prize</title></head><body>
<form method="post" action="${action}">
<input type="hidden" name="_csrf" value="${token}">
<input type="hidden" name="template" value="fall_sale:pt_BR">
<input type="hidden" name="to" value="+5511999990066">
<input type="hidden" name="p_0" value="x"><input type="hidden" name="p_1" value="y">
<button type="submit">Win a prize</button></form></body></html>`;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
