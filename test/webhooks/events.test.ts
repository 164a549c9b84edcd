// Notifications that change what the next send does: template status / category updates (template
// cache), MM_LITE_TERMS_SIGNED (WABA status cache), user_preferences (marketing opt-outs), and
// opt-outs learnt from Meta's 131050.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { kvKeys } from "../../src/cache/keys";
import { gw, sendBody, settled, setupBot, sim, type TestBot } from "../helpers";
import { campaign, emitted, postAll, postSigned, row, statusNotification, until } from "./helpers";

// Polls wait for the queue consumer; a loaded machine needs more than the default 20 s.
vi.setConfig({ testTimeout: 90_000 });

afterEach(async () => {
  await sim("DELETE", "/_sim/faults");
});

async function send(bot: TestBot, over: Record<string, unknown> = {}) {
  const res = await gw("/v1/messages", { method: "POST", key: bot.apiKey, json: sendBody(over) });
  return { status: res.status, body: (await res.json()) as any };
}

async function sendsTo(bot: TestBot, waId: string) {
  const list = await sim("GET", `/_sim/messages?phoneNumberId=${bot.phoneNumberId}`);
  return (list.messages as { to: string }[]).filter((m) => m.to === waId).length;
}

const cachedTemplate = (bot: TestBot, name: string) =>
  env.CACHE.get<any>(kvKeys.template(bot.wabaId, name, "pt_BR"), "json");

describe("template notifications", () => {
  it("a template recategorised MARKETING → UTILITY routes the next send through the Cloud API", async () => {
    const bot = await setupBot();
    const first = await send(bot);
    expect(first.body).toMatchObject({ route: "mm_lite" });
    expect((await cachedTemplate(bot, "fall_sale"))?.template.category).toBe("MARKETING");

    const hooks = await emitted(
      {
        kind: "template_category_update",
        wabaId: bot.wabaId,
        name: "fall_sale",
        language: "pt_BR",
        newCategory: "UTILITY",
      },
      "emit-event",
    );
    await postAll(hooks);
    const cached = await until(
      () => cachedTemplate(bot, "fall_sale"),
      (t) => t?.template.category === "UTILITY",
    );
    // The cached entry is updated in place: no Graph read needed.
    expect(cached).toMatchObject({
      found: true,
      template: { category: "UTILITY", status: "APPROVED", paramCount: 2 },
    });
    const next = await send(bot);
    expect(next.status).toBe(202);
    expect(next.body).toMatchObject({ route: "cloud_api", routeReason: "template_not_marketing" });
  });

  it("a category change of a template not cached drops nothing useful: the next lookup asks Meta", async () => {
    const bot = await setupBot();
    await postAll(
      await emitted(
        {
          kind: "template_category_update",
          wabaId: bot.wabaId,
          name: "order_update",
          language: "pt_BR",
          newCategory: "MARKETING",
        },
        "emit-event",
      ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await cachedTemplate(bot, "order_update")).toBeNull();
    const next = await send(bot, { template: { name: "order_update", language: "pt_BR", params: ["#1"] } });
    expect(next.body).toMatchObject({ route: "mm_lite" });
  });

  it("a template paused and re-approved is refused, then sent again", async () => {
    const bot = await setupBot();
    expect((await send(bot)).status).toBe(202);
    await postAll(
      await emitted(
        {
          kind: "message_template_status_update",
          wabaId: bot.wabaId,
          name: "fall_sale",
          language: "pt_BR",
          event: "PAUSED",
        },
        "emit-event",
      ),
    );
    await until(
      () => cachedTemplate(bot, "fall_sale"),
      (t) => t?.template.status === "PAUSED",
    );
    const refused = await send(bot);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: "template_not_approved" });

    await postAll(
      await emitted(
        {
          kind: "message_template_status_update",
          wabaId: bot.wabaId,
          name: "fall_sale",
          language: "pt_BR",
          event: "APPROVED",
        },
        "emit-event",
      ),
    );
    await until(
      () => cachedTemplate(bot, "fall_sale"),
      (t) => t?.template.status === "APPROVED",
    );
    expect((await send(bot)).status).toBe(202);
  });
});

describe("account notifications", () => {
  it("MM_LITE_TERMS_SIGNED drops the cached WABA status: the next send says mm_lite_activated", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    expect((await send(bot)).body).toMatchObject({ route: "cloud_api", routeReason: "waba_not_onboarded" });
    // Meta onboards the WABA (apply: true) and announces it; until the gateway hears it, the cached
    // answer stands.
    const hooks = await emitted({ kind: "mm_lite_terms_signed", wabaId: bot.wabaId }, "emit-event");
    expect((await send(bot)).body).toMatchObject({ routeReason: "waba_not_onboarded" });
    await postAll(hooks);
    await until(
      () => env.CACHE.get(kvKeys.wabaStatus(bot.wabaId)),
      (v) => v === null,
    );
    expect((await send(bot)).body).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
    expect((await send(bot)).body).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_active" });
  });
});

describe("marketing opt-outs", () => {
  const optOut = (bot: TestBot, waId: string, value: "stop" | "resume", timestamp?: number) =>
    emitted(
      { kind: "user_preferences", phoneNumberId: bot.phoneNumberId, waId, value, timestamp },
      "emit-event",
    );

  const optedOut = (bot: TestBot, waId: string) =>
    row("SELECT opted_out FROM marketing_opt_outs WHERE waba_id = ? AND wa_id = ?", bot.wabaId, waId);

  it("a stopped number gets no marketing campaign message (failed 131050, never sent); others do", async () => {
    const bot = await setupBot();
    await postAll(await optOut(bot, "5511955550001", "stop"));
    await until(
      () => optedOut(bot, "5511955550001"),
      (r) => r?.opted_out === 1,
    );
    const res = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      json: {
        name: "bf",
        template: { name: "fall_sale", language: "pt_BR" },
        audience: [
          { to: "+5511955550001", params: ["Ana", "15/08"] },
          { to: "+5511955550002", params: ["Bia", "15/08"] },
        ],
      },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const c = await until(
      () => campaign(bot, id),
      (x) => x.status === "completed",
    );
    expect(c.counts).toMatchObject({ accepted: 1, failed: 1, queued: 0 });
    expect(c.errors).toEqual([{ code: 131050, title: "User has stopped marketing messages", count: 1 }]);
    expect(await sendsTo(bot, "5511955550001")).toBe(0);
    expect(await sendsTo(bot, "5511955550002")).toBe(1);
  });

  it("an individual send to a stopped number answers 202, then fails 131050; resume lifts it", async () => {
    const bot = await setupBot();
    const to = "+5511955550003";
    await postAll(await optOut(bot, "5511955550003", "stop", 1_780_000_000));
    await until(
      () => optedOut(bot, "5511955550003"),
      (r) => r?.opted_out === 1,
    );
    const refused = await send(bot, { to });
    expect(refused.status).toBe(202);
    expect(refused.body.status).toBe("queued");
    const m = await settled(bot.apiKey, refused.body.id, 25_000);
    expect(m).toMatchObject({
      status: "failed",
      error: { code: 131050, title: "User has stopped marketing messages" },
    });
    expect(m.failedAt).not.toBeNull();
    // A utility template is not a marketing message: it goes.
    const utility = await send(bot, {
      to,
      template: { name: "order_update", language: "pt_BR", params: ["#7"] },
    });
    expect((await settled(bot.apiKey, utility.body.id, 25_000)).status).toBe("accepted");
    expect(await sendsTo(bot, "5511955550003")).toBe(1);

    await postAll(await optOut(bot, "5511955550003", "resume", 1_780_000_100));
    await until(
      () => optedOut(bot, "5511955550003"),
      (r) => r?.opted_out === 0,
    );
    // A late copy of the older stop does not win over the newer resume.
    await postAll(await optOut(bot, "5511955550003", "stop", 1_780_000_000));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await optedOut(bot, "5511955550003")).toEqual({ opted_out: 0 });
    const again = await send(bot, { to });
    expect((await settled(bot.apiKey, again.body.id, 25_000)).status).toBe("accepted");
    expect(await sendsTo(bot, "5511955550003")).toBe(2);
  });

  it("opt-outs are per WABA", async () => {
    const a = await setupBot();
    const b = await setupBot();
    await postAll(await optOut(a, "5511955550004", "stop"));
    await until(
      () => optedOut(a, "5511955550004"),
      (r) => r?.opted_out === 1,
    );
    const sent = await send(b, { to: "+5511955550004" });
    expect((await settled(b.apiKey, sent.body.id, 25_000)).status).toBe("accepted");
  });

  it("Meta refusing a send with 131050 records the opt-out: the next marketing send never reaches Meta", async () => {
    const bot = await setupBot();
    await sim("PUT", "/_sim/faults", {
      rules: [
        {
          endpoint: ["send_mm_lite", "send_cloud"],
          phoneNumberId: bot.phoneNumberId,
          code: 131050,
          count: 1,
        },
      ],
    });
    const first = await send(bot, { to: "+5511955550005" });
    expect(await settled(bot.apiKey, first.body.id, 25_000)).toMatchObject({
      status: "failed",
      error: { code: 131050 },
    });
    expect(await optedOut(bot, "5511955550005")).toEqual({ opted_out: 1 });
    const before = await sim("GET", "/_sim/stats");
    const second = await send(bot, { to: "+5511955550005" });
    expect(await settled(bot.apiKey, second.body.id, 25_000)).toMatchObject({
      status: "failed",
      error: { code: 131050 },
    });
    const after = await sim("GET", "/_sim/stats");
    expect(after.numbers[bot.phoneNumberId]).toEqual(before.numbers[bot.phoneNumberId]);
    expect(after.sends).toEqual(before.sends);
  });

  it("a failed status webhook with 131050 records the opt-out too", async () => {
    const bot = await setupBot();
    await postSigned(
      statusNotification(bot.wabaId, [
        {
          id: "wamid.unknown-optout",
          status: "failed",
          timestamp: 1_780_000_000,
          recipient_id: "5511955550006",
          errors: [{ code: 131050, title: "User has stopped marketing messages" }],
        },
      ]),
    );
    expect(
      await until(
        () => optedOut(bot, "5511955550006"),
        (r) => r?.opted_out === 1,
      ),
    ).toEqual({ opted_out: 1 });
  });
});
