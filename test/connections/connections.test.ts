import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { gw, sendBody, settled, sim, statusQueries, type TestBot, templates, uniqueWaba } from "../helpers";

afterEach(async () => {
  await sim("DELETE", "/_sim/faults");
});

/** A bot whose WABA is shared or On-Behalf-Of, with the standard templates at the simulator. */
async function botWith(
  opts: { wabaType?: "shared" | "obo"; onboarding?: string; restricted?: boolean } = {},
): Promise<TestBot> {
  const { wabaId, phoneNumberId } = uniqueWaba();
  await sim("PUT", `/_sim/wabas/${wabaId}`, {
    onboardingStatus: opts.onboarding ?? "ONBOARDED",
    phoneNumbers: [{ id: phoneNumberId, throughputMps: 1000 }],
    templates,
  });
  const res = await gw("/admin/bots", {
    method: "POST",
    admin: true,
    json: {
      name: "Store",
      wabaId,
      phoneNumberId,
      businessId: "5060",
      wabaType: opts.wabaType ?? "shared",
      mmLiteRestricted: opts.restricted ?? false,
    },
  });
  expect(res.status).toBe(201);
  const bot = (await res.json()) as { id: string; apiKey: string };
  return { id: bot.id, apiKey: bot.apiKey, wabaId, phoneNumberId };
}

function connectBody(bot: TestBot, over: Record<string, unknown> = {}) {
  return {
    businessId: "5060",
    wabaIds: [bot.wabaId],
    phoneNumberIds: [bot.phoneNumberId],
    adAccountIds: ["act_1"],
    acceptMigration: false,
    ...over,
  };
}

async function connect(bot: TestBot, over: Record<string, unknown> = {}) {
  const res = await gw("/v1/mm-lite/connections", {
    method: "POST",
    key: bot.apiKey,
    json: connectBody(bot, over),
  });
  return { status: res.status, body: (await res.json()) as any, res };
}

async function status(bot: TestBot) {
  const res = await gw("/v1/mm-lite/status", { key: bot.apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as any;
}

async function send(bot: TestBot, over: Record<string, unknown> = {}) {
  const res = await gw("/v1/messages", { method: "POST", key: bot.apiKey, json: sendBody(over) });
  expect(res.status).toBe(202);
  return (await res.json()) as any;
}

async function productAtMeta(wamid: string): Promise<string | undefined> {
  const list = await sim("GET", "/_sim/messages?limit=5000");
  return (list.messages as { wamid: string; product: string }[]).find((m) => m.wamid === wamid)?.product;
}

/** The sync window is D1 data: moving `sync_until` into the past ends it (no clock to fake). */
async function endSyncWindow(bot: TestBot): Promise<string> {
  const past = new Date(Date.now() - 1000).toISOString();
  await env.DB.prepare(
    "UPDATE mm_lite_connections SET sync_until = ? WHERE id = (SELECT connection_id FROM wabas WHERE id = ?)",
  )
    .bind(past, bot.wabaId)
    .run();
  return past;
}

async function wabaRow(wabaId: string) {
  return env.DB.prepare("SELECT * FROM wabas WHERE id = ?").bind(wabaId).first<Record<string, unknown>>();
}

const HOUR = 3600 * 1000;

describe("POST /v1/mm-lite/connections", () => {
  it("connects a shared WABA and opens a sync window of MM_LITE_SYNC_HOURS (24 h)", async () => {
    const bot = await botWith();
    const before = Date.now();
    const { status: code, body, res } = await connect(bot);
    expect(code).toBe(201);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(body).toMatchObject({
      status: "syncing",
      wabas: [{ id: bot.wabaId, type: "shared", migrated: false }],
      businessId: "5060",
      phoneNumberIds: [bot.phoneNumberId],
      adAccountIds: ["act_1"],
    });
    expect(body.id).toMatch(/^mmc_/);
    const until = Date.parse(body.syncUntil);
    expect(until).toBeGreaterThanOrEqual(before + 24 * HOUR);
    expect(until).toBeLessThanOrEqual(Date.now() + 24 * HOUR);

    const stored = await env.DB.prepare("SELECT * FROM mm_lite_connections WHERE id = ?")
      .bind(body.id)
      .first();
    expect(stored).toMatchObject({
      bot_id: bot.id,
      business_id: "5060",
      waba_ids: JSON.stringify([bot.wabaId]),
      phone_number_ids: JSON.stringify([bot.phoneNumberId]),
      ad_account_ids: JSON.stringify(["act_1"]),
      sync_until: body.syncUntil,
    });
    expect(await wabaRow(bot.wabaId)).toMatchObject({ connection_id: body.id, type: "shared", migrated: 0 });
  });

  it("refuses an OBO WABA without acceptMigration (409 listing wabaIds) and migrates it with it", async () => {
    const bot = await botWith({ wabaType: "obo" });
    const refused = await connect(bot);
    expect(refused.status).toBe(409);
    expect(refused.res.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({
      type: "about:blank",
      status: 409,
      code: "obo_migration_required",
      wabaIds: [bot.wabaId],
    });
    expect(refused.body.detail).toContain("acceptMigration");
    // Nothing written.
    expect(await wabaRow(bot.wabaId)).toMatchObject({ type: "obo", migrated: 0, connection_id: null });
    const none = await env.DB.prepare("SELECT COUNT(*) AS n FROM mm_lite_connections WHERE bot_id = ?")
      .bind(bot.id)
      .first<{ n: number }>();
    expect(none?.n).toBe(0);

    const accepted = await connect(bot, { acceptMigration: true });
    expect(accepted.status).toBe(201);
    expect(accepted.body).toMatchObject({
      status: "syncing",
      wabas: [{ id: bot.wabaId, type: "shared", migrated: true }],
    });
    expect(await wabaRow(bot.wabaId)).toMatchObject({ type: "shared", migrated: 1 });
    const asAdmin = (await (await gw(`/admin/bots/${bot.id}`, { admin: true })).json()) as any;
    expect(asAdmin.wabaType).toBe("shared");
  });

  it("403 forbidden_waba for another WABA, number or business, checked before the OBO rule", async () => {
    const bot = await botWith({ wabaType: "obo" });
    const other = await botWith();
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ wabaIds: [other.wabaId] }, { wabaIds: [other.wabaId] }],
      [{ wabaIds: [bot.wabaId, other.wabaId] }, { wabaIds: [other.wabaId] }],
      [{ phoneNumberIds: [other.phoneNumberId] }, { phoneNumberIds: [other.phoneNumberId] }],
      [{ businessId: "9999" }, {}],
    ];
    for (const [over, listed] of cases) {
      const res = await connect(bot, over);
      expect(res.status, JSON.stringify(over)).toBe(403);
      expect(res.res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body).toMatchObject({ status: 403, code: "forbidden_waba", ...listed });
    }
    // With the migration accepted, another bot's (shared) WABA is still forbidden, and untouched.
    const res = await connect(bot, { wabaIds: [other.wabaId], acceptMigration: true });
    expect(res.status).toBe(403);
    expect(await wabaRow(other.wabaId)).toMatchObject({ connection_id: null });
    expect(await wabaRow(bot.wabaId)).toMatchObject({ type: "obo", connection_id: null });
  });

  it("400 for empty or missing adAccountIds and other schema violations", async () => {
    const bot = await botWith();
    const empty = await connect(bot, { adAccountIds: [] });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ code: "invalid_request" });
    expect(empty.body.errors.map((e: { path: string }) => e.path)).toContain("adAccountIds");

    const { adAccountIds: _, ...withoutAds } = connectBody(bot);
    const missing = await gw("/v1/mm-lite/connections", {
      method: "POST",
      key: bot.apiKey,
      json: withoutAds,
    });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: "invalid_request" });

    for (const over of [{ wabaIds: [] }, { acceptMigration: "yes" }, { extra: 1 }, { wabaIds: ["a/b"] }]) {
      const res = await connect(bot, over);
      expect(res.status, JSON.stringify(over)).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
    const bad = await gw("/v1/mm-lite/connections", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_json" });
    expect(await wabaRow(bot.wabaId)).toMatchObject({ connection_id: null });
  });

  it("401 without a valid key", async () => {
    const res = await gw("/v1/mm-lite/connections", { method: "POST", json: {} });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "unauthorized" });
    const st = await gw("/v1/mm-lite/status", { key: "mmk_nope" });
    expect(st.status).toBe(401);
  });

  it("answers 200 with the existing connection when the WABA is already connected (same window)", async () => {
    const bot = await botWith({ wabaType: "obo" });
    const first = await connect(bot, { acceptMigration: true });
    expect(first.status).toBe(201);
    const again = await connect(bot, { adAccountIds: ["act_2"] });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM mm_lite_connections WHERE bot_id = ?")
      .bind(bot.id)
      .first<{ n: number }>();
    expect(n?.n).toBe(1);

    // After the window the connection is reported as connected, still the same one.
    const past = await endSyncWindow(bot);
    const later = await connect(bot);
    expect(later.status).toBe(200);
    expect(later.body).toMatchObject({ id: first.body.id, status: "connected", syncUntil: past });
  });

  it("concurrent connections of one WABA make one connection", async () => {
    const bot = await botWith();
    const answers = await Promise.all(Array.from({ length: 5 }, () => connect(bot)));
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    expect(answers.every((a) => a.status === 201 || a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
  });
});

describe("sync window, then activation", () => {
  it("marketing goes through the Cloud API during the window, then MM Lite is activated", async () => {
    const bot = await botWith({ onboarding: "ONBOARDED" });
    const conn = await connect(bot);
    expect(conn.status).toBe(201);

    const syncing = await status(bot);
    expect(syncing).toEqual({
      wabaId: bot.wabaId,
      state: "syncing",
      onboardingStatus: null,
      activatedAt: null,
      syncUntil: conn.body.syncUntil,
      checkedAt: null,
      botRestricted: false,
    });

    // During the window: a single message…
    const pending = await send(bot);
    expect(pending).toMatchObject({ route: "cloud_api", routeReason: "mm_lite_sync_pending" });
    const done = await settled(bot.apiKey, pending.id);
    expect(done).toMatchObject({
      status: "accepted",
      route: "cloud_api",
      routeReason: "mm_lite_sync_pending",
    });
    expect(await productAtMeta(done.wamid)).toBe("cloud_api");
    // …and a campaign.
    const campaign = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      json: {
        name: "during sync",
        template: { name: "fall_sale", language: "pt_BR" },
        audience: [{ to: "+5511999990002", params: ["Bia", "15/08"] }],
      },
    });
    expect(campaign.status).toBe(202);
    expect(await campaign.json()).toMatchObject({ route: "cloud_api", routeReason: "mm_lite_sync_pending" });
    // Non-marketing keeps its reason; an explicit Cloud API request is honoured, never a 409.
    expect(
      await send(bot, { template: { name: "order_update", language: "pt_BR", params: ["1"] } }),
    ).toMatchObject({ route: "cloud_api", routeReason: "template_not_marketing" });
    expect(await send(bot, { route: "cloud_api" })).toMatchObject({
      route: "cloud_api",
      routeReason: "cloud_api_requested",
    });
    // That request asked Meta (ONBOARDED) and cached it: the window's end must not trust that.
    const queriesBefore = await statusQueries(bot.wabaId);
    expect(queriesBefore).toBe(1);
    expect(await status(bot)).toMatchObject({ state: "syncing", onboardingStatus: "ONBOARDED" });

    // The window ends: the next send asks Meta again and activates MM Lite.
    const syncUntil = await endSyncWindow(bot);
    const activated = await send(bot);
    expect(activated).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
    expect(await statusQueries(bot.wabaId)).toBe(queriesBefore + 1);
    const sent = await settled(bot.apiKey, activated.id);
    expect(sent).toMatchObject({ status: "accepted", route: "mm_lite" });
    expect(await productAtMeta(sent.wamid)).toBe("mm_lite");

    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_active" });
    expect(await statusQueries(bot.wabaId)).toBe(queriesBefore + 1);

    const active = await status(bot);
    expect(active).toMatchObject({
      wabaId: bot.wabaId,
      state: "active",
      onboardingStatus: "ONBOARDED",
      syncUntil,
    });
    expect(Date.parse(active.activatedAt)).toBeGreaterThan(Date.parse(syncUntil));
    expect(Date.parse(active.checkedAt)).toBeGreaterThan(Date.parse(syncUntil));
    expect(await statusQueries(bot.wabaId)).toBe(queriesBefore + 1); // the page read the cache
    // Once active, marketing goes through MM Lite only.
    const insist = await gw("/v1/messages", {
      method: "POST",
      key: bot.apiKey,
      json: sendBody({ route: "cloud_api" }),
    });
    expect(insist.status).toBe(409);
    expect(await insist.json()).toMatchObject({ code: "mm_lite_required" });
  });

  it("a WABA active before connecting is activated again after the window", async () => {
    const bot = await botWith({ onboarding: "ONBOARDED" });
    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
    expect(await status(bot)).toMatchObject({ state: "active" });

    await connect(bot);
    expect(await send(bot)).toMatchObject({ route: "cloud_api", routeReason: "mm_lite_sync_pending" });
    expect(await status(bot)).toMatchObject({ state: "syncing", activatedAt: null });

    await endSyncWindow(bot);
    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_active" });
    expect(await statusQueries(bot.wabaId)).toBe(2);
  });

  it("a not-onboarded answer cached during the window does not hide the activation", async () => {
    const bot = await botWith({ onboarding: "ELIGIBLE" });
    await connect(bot);
    expect(await send(bot, { route: "cloud_api" })).toMatchObject({ routeReason: "cloud_api_requested" });
    expect(await env.CACHE.get(`waba-status:${bot.wabaId}`)).not.toBeNull(); // not_onboarded, 5 min

    await sim("PUT", `/_sim/wabas/${bot.wabaId}`, { onboardingStatus: "ONBOARDED" });
    await endSyncWindow(bot);
    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
  });

  it("after the window a WABA Meta has not onboarded stays on the Cloud API and shows inactive", async () => {
    const bot = await botWith({ onboarding: "ELIGIBLE" });
    await connect(bot);
    const syncUntil = await endSyncWindow(bot);
    expect(await send(bot)).toMatchObject({ route: "cloud_api", routeReason: "waba_not_onboarded" });
    const st = await status(bot);
    expect(st).toMatchObject({
      state: "inactive",
      onboardingStatus: "ELIGIBLE",
      activatedAt: null,
      syncUntil,
    });
    expect(Date.parse(st.checkedAt)).toBeGreaterThan(Date.parse(syncUntil));
  });

  it("the window is settled once, whoever sees its end first (status page or send)", async () => {
    const bot = await botWith({ onboarding: "ONBOARDED" });
    await connect(bot);
    await endSyncWindow(bot);
    const first = await status(bot); // settles, then asks Meta through the WABA's Durable Object
    expect(first).toMatchObject({ state: "active", onboardingStatus: "ONBOARDED", activatedAt: null });
    expect((await wabaRow(bot.wabaId))?.sync_settled_at).not.toBeNull();
    // Looking does not claim the activation: the first send after it is the one that says so, and
    // it needs no second Meta query.
    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
    expect(await send(bot)).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_active" });
    expect(await statusQueries(bot.wabaId)).toBe(1);
    expect((await status(bot)).activatedAt).not.toBeNull();
  });

  it("a restricted bot stays on the Cloud API whatever the window", async () => {
    const bot = await botWith({ restricted: true });
    await connect(bot);
    expect(await send(bot)).toMatchObject({ route: "cloud_api", routeReason: "bot_restricted" });
    expect(await status(bot)).toMatchObject({ state: "syncing", botRestricted: true });
  });
});

describe("GET /v1/mm-lite/status without a connection", () => {
  it("asks Meta (once) when nothing is known, and shows inactive with Meta's status", async () => {
    const bot = await botWith({ onboarding: "INELIGIBLE_ON_BEHALF_OF_WABA" });
    const st = await status(bot);
    expect(st).toMatchObject({
      wabaId: bot.wabaId,
      state: "inactive",
      onboardingStatus: "INELIGIBLE_ON_BEHALF_OF_WABA",
      activatedAt: null,
      syncUntil: null,
    });
    expect(st.checkedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    await status(bot);
    expect(await statusQueries(bot.wabaId)).toBe(1);
  });

  it("shows active once MM Lite is activated", async () => {
    const bot = await botWith({ onboarding: "ONBOARDED" });
    const sent = await send(bot);
    expect(sent.routeReason).toBe("mm_lite_activated");
    const st = await status(bot);
    expect(st).toMatchObject({ state: "active", onboardingStatus: "ONBOARDED", syncUntil: null });
    expect(st.activatedAt).not.toBeNull();
    expect(st.activatedAt >= st.checkedAt).toBe(true);
  });

  it("shows the last recorded status when Meta cannot be asked", async () => {
    const bot = await botWith({ onboarding: "ELIGIBLE" });
    await sim("PUT", "/_sim/faults", { wabaStatusUnavailable: true });
    expect(await status(bot)).toMatchObject({ state: "inactive", onboardingStatus: null, checkedAt: null });
  });
});
