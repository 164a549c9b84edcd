import { describe, expect, it } from "vitest";
import { gw, setupBot, sim, templates, uniqueWaba } from "../helpers";
import { PortalClient } from "./portal-client";

const CSV = [
  "phone,first,until",
  "+5511999990001,Ana,15/08",
  "+5511999990002,Bia,16/08",
  "12ab,Caio,17/08",
  "+5511999990001,Ana,15/08",
  "+5511999990003,only-one",
].join("\n");

async function signedIn(opts: Parameters<typeof setupBot>[0] = {}) {
  const bot = await setupBot(opts);
  const client = new PortalClient();
  const res = await client.signIn(bot.apiKey);
  expect(res.status).toBe(303);
  return { bot, client };
}

/** A bot whose WABA is On-Behalf-Of (needs the migration step to connect MM Lite). */
async function oboBot() {
  const { wabaId, phoneNumberId } = uniqueWaba();
  await sim("PUT", `/_sim/wabas/${wabaId}`, {
    onboardingStatus: "INELIGIBLE_ON_BEHALF_OF_WABA",
    phoneNumbers: [{ id: phoneNumberId, throughputMps: 1000 }],
    templates,
  });
  const res = await gw("/admin/bots", {
    method: "POST",
    admin: true,
    json: { name: "OBO Store", wabaId, phoneNumberId, businessId: "7070", wabaType: "obo" },
  });
  expect(res.status).toBe(201);
  const bot = (await res.json()) as { id: string; apiKey: string };
  return { ...bot, wabaId, phoneNumberId };
}

describe("portal: sign-in and session", () => {
  it("sends a visitor without a session to the sign-in form, and back afterwards", async () => {
    const client = new PortalClient();
    const page = await client.get("/portal/campaigns?cursor=abc");
    expect(page.status).toBe(303);
    expect(page.res.headers.get("location")).toBe(
      `/portal/sign-in?next=${encodeURIComponent("/portal/campaigns?cursor=abc")}`,
    );
    expect((await client.get("/portal")).res.headers.get("location")).toBe("/portal/sign-in");
    expect((await client.get("/portal/")).res.headers.get("location")).toBe("/portal/sign-in");

    const bot = await setupBot();
    const form = await client.get("/portal/sign-in?next=%2Fportal%2Fsend");
    expect(form.status).toBe(200);
    expect(form.html).toMatch(/^<!doctype html>/);
    expect(form.html).toContain('<label for="api-key">');
    const signIn = await client.post("/portal/sign-in", { api_key: bot.apiKey, next: "/portal/send" });
    expect(signIn.status).toBe(303);
    expect(signIn.res.headers.get("location")).toBe("/portal/send");
  });

  it("sets a signed, HttpOnly, Secure, SameSite=Strict session cookie with an expiry", async () => {
    const bot = await setupBot();
    const client = new PortalClient();
    const form = await client.get("/portal/sign-in");
    const anonymous = form.res.headers.get("set-cookie") ?? "";
    expect(anonymous).toMatch(
      /^__Host-mmlite_portal=v1\.[\w-]+\.[\w-]+; Path=\/; Max-Age=3600; HttpOnly; Secure; SameSite=Strict$/,
    );
    const res = await client.post("/portal/sign-in", { api_key: bot.apiKey });
    const cookie = res.res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      /^__Host-mmlite_portal=v1\.[\w-]+\.[\w-]+; Path=\/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/,
    );
    // A new session id at sign-in (no fixation): the value differs from the anonymous one.
    expect(cookie.split(";")[0]).not.toBe(anonymous.split(";")[0]);
    const page = await client.get("/portal/campaigns");
    expect(page.status).toBe(200);
    expect(page.html).toContain("Active messages");
    expect(page.html).toContain("Store");
  });

  it("refuses a wrong key, a forged cookie and a revoked session", async () => {
    const bot = await setupBot();
    const client = new PortalClient();
    await client.get("/portal/sign-in");
    const wrong = await client.post("/portal/sign-in", { api_key: `${bot.apiKey.slice(0, -2)}xx` });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain("That API key is not valid.");
    expect((await client.get("/portal/campaigns")).status).toBe(303);

    await client.post("/portal/sign-in", { api_key: bot.apiKey });
    const good = client.cookie as string;
    expect((await client.get("/portal/campaigns")).status).toBe(200);

    // Tampering with the payload (e.g. another bot id) breaks the signature.
    const [name, value] = good.split("=") as [string, string];
    const [v, payload, mac] = value.split(".") as [string, string, string];
    const json = JSON.parse(atob(payload.replaceAll("-", "+").replaceAll("_", "/")));
    const forged = btoa(JSON.stringify({ ...json, bot: "bot_other" }))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replaceAll("=", "");
    const forger = new PortalClient();
    forger.cookie = `${name}=${v}.${forged}.${mac}`;
    expect((await forger.get("/portal/campaigns")).status).toBe(303);

    // Signing out revokes the session: the old cookie no longer opens a page.
    const out = await client.post("/portal/sign-out", {});
    expect(out.status).toBe(303);
    expect(out.res.headers.get("location")).toBe("/portal/sign-in?signed_out=1");
    expect(out.res.headers.get("set-cookie")).toMatch(
      /^__Host-mmlite_portal=; Path=\/; Max-Age=0; HttpOnly; Secure; SameSite=Strict$/,
    );
    const replay = new PortalClient();
    replay.cookie = good;
    expect((await replay.get("/portal/campaigns")).status).toBe(303);
  });

  it("answers every page with a strict CSP whose style nonce is the page's", async () => {
    const { client } = await signedIn();
    const page = await client.get("/portal/campaigns");
    const csp = page.res.headers.get("content-security-policy") ?? "";
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(page.html).toContain(`<style nonce="${nonce}">`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.html).not.toContain("<script");
    expect(page.res.headers.get("cache-control")).toBe("no-store");
    expect(page.res.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe("portal: CSRF", () => {
  it("refuses a POST without the token, with another session's token, or from another origin", async () => {
    const { client } = await signedIn();
    const { client: other } = await signedIn();
    const send = { template: "fall_sale:pt_BR", to: "+5511999990001", p_0: "Ana", p_1: "15/08" };

    const noToken = await client.post("/portal/send/individual", send, { csrf: null });
    expect(noToken.status).toBe(403);
    expect(noToken.html).toContain("security token");

    const foreignToken = await client.post("/portal/send/individual", send, { csrf: other.csrf });
    expect(foreignToken.status).toBe(403);

    const crossOrigin = await client.post("/portal/send/individual", send, {
      headers: { origin: "https://evil.example" },
    });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.html).toContain("did not come from the portal");
    const crossSite = await client.post("/portal/send/individual", send, {
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await client.post("/portal/send/individual", send, {
      headers: { "sec-fetch-site": "same-site" },
    });
    expect(sameSite.status).toBe(403);
    const nullOrigin = await client.post("/portal/send/individual", send, { headers: { origin: "null" } });
    expect(nullOrigin.status).toBe(403);

    // Sign-out is a POST too.
    expect((await client.post("/portal/sign-out", {}, { csrf: "nope" })).status).toBe(403);

    // Nothing was sent by any of the refused forms.
    const list = await client.get("/portal/campaigns");
    expect(list.html).toContain("No campaigns yet");

    const ok = await client.post("/portal/send/individual", send);
    expect(ok.status, ok.html).toBe(303);
    expect(ok.res.headers.get("location")).toMatch(/^\/portal\/campaigns\/cmp_\w+\?sent=1$/);
  });

  it("checks the token of a multipart upload before it reads the file", async () => {
    const { client } = await signedIn();
    await client.get("/portal/send?audience=bulk&template=fall_sale:pt_BR");
    const file = { name: "file", value: CSV, filename: "a.csv" };
    const fields = [
      { name: "template", value: "fall_sale:pt_BR" },
      { name: "name", value: "x" },
    ];
    const fileFirst = await client.postMultipart("/portal/send/bulk", [
      file,
      { name: "_csrf", value: client.csrf as string },
      ...fields,
    ]);
    expect(fileFirst.status).toBe(403);
    const wrong = await client.postMultipart("/portal/send/bulk", [
      { name: "_csrf", value: "bad" },
      ...fields,
      file,
    ]);
    expect(wrong.status).toBe(403);
    const foreign = await client.postMultipart(
      "/portal/send/bulk",
      [{ name: "_csrf", value: client.csrf as string }, ...fields, file],
      { origin: "http://127.0.0.1:9" },
    );
    expect(foreign.status).toBe(403);
    // Multipart anywhere else is refused.
    const elsewhere = await client.postMultipart("/portal/send/individual", [
      { name: "_csrf", value: client.csrf as string },
    ]);
    expect(elsewhere.status).toBe(403);
    expect((await client.get("/portal/campaigns")).html).toContain("No campaigns yet");
  });

  it("asks for a fresh sign-in form when its token is missing", async () => {
    const bot = await setupBot();
    const client = new PortalClient();
    const res = await client.post("/portal/sign-in", { api_key: bot.apiKey }, { csrf: null });
    expect(res.status).toBe(403);
    expect(res.html).toContain("The sign-in form expired");
    expect(res.res.headers.get("set-cookie")).toMatch(/^__Host-mmlite_portal=v1\./);
  });
});

describe("portal: scoped to the bot", () => {
  it("answers another bot's campaign and report with 404, and never lists them", async () => {
    const a = await setupBot();
    const { client: b } = await signedIn();
    const res = await gw("/v1/campaigns", {
      method: "POST",
      key: a.apiKey,
      json: {
        name: "A's secret campaign",
        template: { name: "fall_sale", language: "pt_BR" },
        audience: [{ to: "+5511999990001", params: ["Ana", "15/08"] }],
      },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const page = await b.get(`/portal/campaigns/${id}`);
    expect(page.status).toBe(404);
    expect(page.html).toContain("There is no such campaign for this bot.");
    expect(page.html).not.toContain("A's secret campaign");
    expect((await b.get(`/portal/campaigns/${id}/report.csv`)).status).toBe(404);
    expect((await b.get("/portal/campaigns")).html).not.toContain(id);
    expect((await b.get("/portal/campaigns/cmp_nope")).status).toBe(404);
    expect((await b.get("/portal/nothing-here")).status).toBe(404);
  });
});

describe("portal: sending", () => {
  it("lists only approved templates and sends one message through the use case", async () => {
    const { client } = await signedIn();
    const start = await client.get("/portal/send");
    expect(start.status).toBe(200);
    expect(start.html).toContain('value="fall_sale:pt_BR"');
    expect(start.html).toContain('value="order_update:pt_BR"');
    expect(start.html).not.toContain("winter_sale"); // PENDING

    const form = await client.get("/portal/send?audience=individual&template=fall_sale%3Apt_BR");
    expect(form.html).toContain('<label for="p_1">');
    const bad = await client.post("/portal/send/individual", {
      template: "fall_sale:pt_BR",
      to: "12ab",
      p_0: "Ana",
      p_1: "15/08",
      form_key: "k".repeat(20),
    });
    expect(bad.status).toBe(422);
    expect(bad.html).toContain("Invalid phone number");
    expect(bad.html).toContain('value="12ab"');

    const key = "formkey-0123456789abcdef";
    const fields = {
      template: "fall_sale:pt_BR",
      to: "+55 11 99999-0009",
      p_0: "Ana",
      p_1: "15/08",
      form_key: key,
    };
    const sent = await client.post("/portal/send/individual", fields);
    expect(sent.status).toBe(303);
    const location = sent.res.headers.get("location") as string;
    // The same form sent twice (a double click) sends one message.
    const again = await client.post("/portal/send/individual", fields);
    expect(again.res.headers.get("location")).toBe(location);
    const list = await client.get("/portal/campaigns");
    expect(list.html.match(/data-campaign=/g)?.length).toBe(1);

    const detail = await client.get(location);
    expect(detail.status).toBe(200);
    expect(detail.html).toContain("Your message is queued.");
    expect(detail.html).toContain('role="img"');
  });

  it("uploads a CSV, shows the skipped rows, and offers a sample file", async () => {
    const { client } = await signedIn({ throughputMps: 200 });
    const form = await client.get("/portal/send?audience=bulk&template=fall_sale:pt_BR");
    expect(form.html).toContain('enctype="multipart/form-data"');
    const sample = await client.get("/portal/send/sample.csv?template=fall_sale:pt_BR");
    expect(sample.status).toBe(200);
    expect(sample.res.headers.get("content-disposition")).toBe('attachment; filename="sample-fall_sale.csv"');
    expect(sample.html).toBe(
      "phone,param_1,param_2\r\n+5511999990001,value_1_1,value_2_1\r\n+5511999990002,value_1_2,value_2_2\r\n",
    );

    const csrf = client.csrf as string;
    const res = await client.postMultipart("/portal/send/bulk", [
      { name: "_csrf", value: csrf },
      { name: "form_key", value: "bulkform-0123456789abcdef" },
      { name: "template", value: "fall_sale:pt_BR" },
      { name: "name", value: "Black Friday" },
      { name: "file", value: CSV, filename: "audience.csv" },
    ]);
    expect(res.status, res.html).toBe(200);
    expect(res.html).toContain("Campaign started");
    expect(res.html).toContain("Rows that were skipped");
    expect(res.html).toContain("12ab");
    expect(res.html).toContain("Not a valid phone number");
    expect(res.html).toContain("Wrong number of template parameters");
    const id = /href="\/portal\/campaigns\/(cmp_\w+)"/.exec(res.html)?.[1];
    expect(id).toBeTruthy();

    const report = await client.get(`/portal/campaigns/${id}/report.csv`);
    expect(report.status).toBe(200);
    expect(report.res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(report.html.split("\r\n")[0]).toMatch(/^phone,status,route,route_reason/);

    const empty = await client.postMultipart("/portal/send/bulk", [
      { name: "_csrf", value: csrf },
      { name: "template", value: "fall_sale:pt_BR" },
      { name: "name", value: "Nobody" },
      { name: "file", value: "phone,first,until\n12ab,x,y\n", filename: "bad.csv" },
    ]);
    expect(empty.status).toBe(422);
    expect(empty.html).toContain("Empty audience");
    expect(empty.html).toContain("12ab");
  });

  it("streams a large upload to the CSV reader", async () => {
    const { bot, client } = await signedIn({ throughputMps: 1000 });
    await client.get("/portal/send?audience=bulk&template=fall_sale:pt_BR");
    const rows = ["phone,first,until"];
    for (let i = 0; i < 30_000; i++) rows.push(`+55119${String(10_000_000 + i)},Name ${i},15/08`);
    const res = await client.postMultipart("/portal/send/bulk", [
      { name: "_csrf", value: client.csrf as string },
      { name: "template", value: "fall_sale:pt_BR" },
      { name: "name", value: "Big" },
      { name: "file", value: rows.join("\n"), filename: "big.csv" },
    ]);
    expect(res.status, res.html.slice(0, 2000)).toBe(200);
    expect(res.html).toContain("30,000");
    const id = /href="\/portal\/campaigns\/(cmp_\w+)"/.exec(res.html)?.[1] as string;
    // While it is sending, its page reloads itself (no script), unless asked not to.
    const live = await client.get(`/portal/campaigns/${id}`);
    expect(live.html).toContain('<meta http-equiv="refresh" content="5"/>');
    expect(live.html).toContain("Stop refreshing");
    expect((await client.get(`/portal/campaigns/${id}?live=0`)).html).not.toContain('http-equiv="refresh"');
    // Stop it: the test is about the intake, not about 30,000 sends.
    expect((await gw(`/v1/campaigns/${id}/cancel`, { method: "POST", key: bot.apiKey })).status).toBe(200);
  });
});

describe("portal: campaign list", () => {
  it("pages through the campaigns, newest first, with a cursor", async () => {
    const { bot, client } = await signedIn({ throughputMps: 1000 });
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const res = await gw("/v1/messages", {
        method: "POST",
        key: bot.apiKey,
        json: {
          to: `+55119999900${String(i).padStart(2, "0")}`,
          template: { name: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] },
        },
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { campaignId: string }).campaignId);
    }
    const first = await client.get("/portal/campaigns");
    const onFirst = [...first.html.matchAll(/data-campaign="(cmp_\w+)"/g)].map((m) => m[1]);
    expect(onFirst).toEqual(ids.slice(-20).reverse());
    expect(first.html).not.toContain("Newest campaigns");
    const next = /href="(\/portal\/campaigns\?cursor=[^"]+)" rel="next"/.exec(first.html)?.[1] as string;
    expect(next).toBeTruthy();
    const second = await client.get(next.replaceAll("&amp;", "&"));
    const onSecond = [...second.html.matchAll(/data-campaign="(cmp_\w+)"/g)].map((m) => m[1]);
    expect(onSecond).toEqual(ids.slice(0, 3).reverse());
    expect(second.html).toContain("Newest campaigns");
    expect(second.html).not.toContain('rel="next"');
    // Every row has its two actions.
    expect(second.html.match(/Download report/g)?.length).toBe(3);
    expect(second.html.match(/View performance details/g)?.length).toBe(3);
    // A malformed cursor is ignored (first page), never an error.
    expect((await client.get("/portal/campaigns?cursor=%27%20OR%201")).status).toBe(200);
  });
});

describe("portal: connect MM Lite", () => {
  it("walks the steps, shows the OBO migration only when needed, then the status panel", async () => {
    const obo = await oboBot();
    const client = new PortalClient();
    await client.signIn(obo.apiKey);
    const status = await client.get("/portal/mm-lite");
    expect(status.status).toBe(200);
    expect(status.html).toContain("Connect MM Lite API");
    expect(status.html).toContain("INELIGIBLE_ON_BEHALF_OF_WABA");

    const q = (step: string, extra = "") =>
      `/portal/mm-lite/connect?step=${step}&permission=yes&business=7070&numbers=${obo.phoneNumberId}&ads=act_1${extra}`;
    expect((await client.get("/portal/mm-lite/connect?step=permission")).html).toContain(
      "Marketing Messages Lite API",
    );
    // Skipping a step lands on it, with why.
    const skipped = await client.get("/portal/mm-lite/connect?step=numbers");
    expect(skipped.status).toBe(422);
    expect(skipped.html).toContain("Allow the information sharing");
    expect((await client.get(q("review"))).html).toContain("On-Behalf-Of");
    const migration = await client.get(q("migration"));
    expect(migration.html).toContain("cannot be undone");
    const confirm = await client.get(q("confirm"));
    expect(confirm.status).toBe(422); // the migration was not accepted yet
    expect(confirm.html).toContain("Accept the migration");

    const fields = {
      permission: "yes",
      business: "7070",
      numbers: obo.phoneNumberId,
      ads: "act_1, act_2",
      accept: "yes",
    };
    const refused = await client.post("/portal/mm-lite/connect", fields);
    expect(refused.status).toBe(422);
    expect(refused.html).toContain("WABA migration");
    const done = await client.post("/portal/mm-lite/connect", { ...fields, migration: "accepted" });
    expect(done.status, done.html).toBe(303);
    expect(done.res.headers.get("location")).toBe("/portal/mm-lite?connected=1");
    const panel = await client.get("/portal/mm-lite?connected=1");
    expect(panel.html).toContain("Syncing");
    expect(panel.html).toContain("migrated from On-Behalf-Of");
    expect(panel.html).toContain("act_1, act_2");
    // Connected: the wizard sends back to the panel.
    expect((await client.get("/portal/mm-lite/connect?step=permission")).status).toBe(303);
  });

  it("has no migration step for a shared WABA", async () => {
    const { bot, client } = await signedIn({ onboarding: "ELIGIBLE" });
    const review = await client.get(
      `/portal/mm-lite/connect?step=review&permission=yes&business=5060&numbers=${bot.phoneNumberId}&ads=act_9`,
    );
    expect(review.status).toBe(200);
    expect(review.html).not.toContain("WABA migration");
    expect(review.html).toContain('name="step" value="confirm"');
    const done = await client.post("/portal/mm-lite/connect", {
      permission: "yes",
      business: "5060",
      numbers: bot.phoneNumberId,
      ads: "act_9",
      accept: "yes",
    });
    expect(done.status).toBe(303);
  });
});
