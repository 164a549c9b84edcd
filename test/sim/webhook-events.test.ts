// Account / template / opt-out event webhooks and the auto-emitter.
import { beforeEach, describe, expect, it } from "vitest";
import {
  APP_SECRET,
  control,
  graph,
  hmacHex,
  type Json,
  PHONE,
  setupWaba,
  sim,
  TO,
  templateSend,
  WABA,
} from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
});

describe("event webhooks", () => {
  const event = (body: Record<string, unknown>) =>
    control("POST", "/webhooks/emit-event", { dryRun: true, ...body });
  const value = (r: Json) => JSON.parse(r.posted[0].body).entry[0].changes[0];

  it("MM_LITE_TERMS_SIGNED, and the WABA becomes ONBOARDED", async () => {
    await setupWaba();
    const r = await event({ kind: "mm_lite_terms_signed", wabaId: WABA, timestamp: 1750000000 });
    expect(r.posted[0].signature).toBe(`sha256=${await hmacHex(APP_SECRET, r.posted[0].body)}`);
    expect(JSON.parse(r.posted[0].body)).toEqual({
      object: "whatsapp_business_account",
      entry: [
        {
          id: WABA,
          time: 1750000000,
          changes: [
            {
              field: "account_update",
              value: {
                event: "MM_LITE_TERMS_SIGNED",
                waba_info: { waba_id: WABA, owner_business_id: "998877665544332" },
              },
            },
          ],
        },
      ],
    });
    const s = await graph("GET", `/${WABA}?fields=marketing_messages_onboarding_status`);
    expect(s.body.marketing_messages_onboarding_status).toBe("ONBOARDED");
    await graph("POST", `/${PHONE}/marketing_messages`, templateSend("fall_sale", ["a", "b"]));
    expect((await control("GET", "/messages")).messages[0].product).toBe("mm_lite");
  });

  it("message_template_status_update applies the new status", async () => {
    await setupWaba();
    const r = await event({
      kind: "message_template_status_update",
      wabaId: WABA,
      name: "fall_sale",
      language: "pt_BR",
      event: "PAUSED",
      reason: "LOW_QUALITY",
    });
    const c = value(r);
    expect(c.field).toBe("message_template_status_update");
    expect(c.value).toMatchObject({
      event: "PAUSED",
      message_template_name: "fall_sale",
      message_template_language: "pt_BR",
      reason: "LOW_QUALITY",
    });
    expect(typeof c.value.message_template_id).toBe("number");
    const send = await graph("POST", `/${PHONE}/messages`, templateSend("fall_sale", ["a", "b"]));
    expect(send.body.error.code).toBe(132015);
  });

  it("template_category_update reports previous and new category", async () => {
    await setupWaba({ onboarded: true });
    const r = await event({
      kind: "template_category_update",
      wabaId: WABA,
      name: "order_update",
      language: "pt_BR",
      newCategory: "MARKETING",
    });
    expect(value(r).value).toMatchObject({ previous_category: "UTILITY", new_category: "MARKETING" });
    const t = await graph(
      "GET",
      `/${WABA}/message_templates?name=order_update&fields=category,previous_category`,
    );
    expect(t.body.data[0]).toMatchObject({ category: "MARKETING", previous_category: "UTILITY" });
  });

  it("user_preferences stop / resume", async () => {
    await setupWaba();
    const r = await event({
      kind: "user_preferences",
      phoneNumberId: PHONE,
      waId: TO,
      value: "stop",
      timestamp: 1750000001,
    });
    const c = value(r);
    expect(c.field).toBe("user_preferences");
    expect(c.value.metadata).toEqual({ display_phone_number: "15550783881", phone_number_id: PHONE });
    expect(c.value.user_preferences).toEqual([
      {
        wa_id: TO,
        detail: "User requested to stop marketing messages",
        category: "marketing_messages",
        value: "stop",
        timestamp: 1750000001,
      },
    ]);
  });

  it("unknown targets → 404", async () => {
    const res = await sim("/_sim/webhooks/emit-event", {
      method: "POST",
      json: { kind: "mm_lite_terms_signed", wabaId: "1" },
    });
    expect(res.status).toBe(404);
  });
});

describe("auto-emitter", () => {
  it("is off by default and, when on, emits sent → delivered → read per accepted send", async () => {
    expect((await control("GET", "/auto-webhooks")).enabled).toBe(false);
    await setupWaba();
    const cfg = await control("PUT", "/auto-webhooks", {
      enabled: true,
      deliveredRate: 1,
      readRate: 1,
      delayMs: 20,
    });
    expect(cfg).toMatchObject({
      enabled: true,
      deliveredRate: 1,
      readRate: 1,
      failedRate: 0,
      delayMs: 20,
      batch: 1,
    });
    await graph("POST", `/${PHONE}/messages`, templateSend("order_update", ["#1"]));
    await graph("POST", `/${PHONE}/messages`, templateSend("order_update", ["#2"]));
    // Posting to gateway.invalid fails under the test pool, which the stats count: 2 messages × 3 statuses.
    let hooks = { posted: 0, failed: 0 };
    for (let i = 0; i < 50 && hooks.failed < 6; i++) {
      await new Promise((r) => setTimeout(r, 50));
      hooks = (await control("GET", "/stats")).webhooks;
    }
    expect(hooks).toEqual({ posted: 0, failed: 6 });
  });
});
