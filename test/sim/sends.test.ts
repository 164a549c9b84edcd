// Both send endpoints: success shape, MM Lite product choice (STRICT vs fallback), template checks.
import { beforeEach, describe, expect, it } from "vitest";
import { control, graph, PHONE, setupWaba, sim, TO, templateSend, WABA } from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
});

const mm = (body: unknown) => graph("POST", `/${PHONE}/marketing_messages`, body);
const cloud = (body: unknown) => graph("POST", `/${PHONE}/messages`, body);
const sale = (extra: Record<string, unknown> = {}) => templateSend("fall_sale", ["Ana", "15/08"], extra);

describe("success", () => {
  it("Cloud API answers exactly Meta's body with a Meta-looking wamid", async () => {
    await setupWaba();
    const r = await cloud(sale());
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["messaging_product", "contacts", "messages"]);
    expect(r.body.messaging_product).toBe("whatsapp");
    expect(r.body.contacts).toEqual([{ input: TO, wa_id: TO }]);
    expect(r.body.messages).toHaveLength(1);
    expect(r.body.messages[0].message_status).toBe("accepted");
    expect(r.body.messages[0].id).toMatch(/^wamid\.HBg[A-Za-z0-9+/]+=*$/);
  });

  it("wamids are unique", async () => {
    await setupWaba();
    const ids = await Promise.all(
      Array.from({ length: 40 }, () => cloud(sale()).then((r) => r.body.messages[0].id)),
    );
    expect(new Set(ids).size).toBe(40);
  });

  it("records accepted messages with the product that carried them", async () => {
    await setupWaba({ onboarded: true });
    const a = await mm(sale());
    const b = await cloud(templateSend("order_update", ["#42"]));
    const { messages, count } = await control("GET", "/messages");
    expect(count).toBe(2);
    expect(messages[0]).toMatchObject({
      wamid: a.body.messages[0].id,
      phoneNumberId: PHONE,
      wabaId: WABA,
      to: TO,
      template: "fall_sale",
      language: "pt_BR",
      params: ["Ana", "15/08"],
      product: "mm_lite",
      endpoint: "send_mm_lite",
    });
    expect(messages[1]).toMatchObject({
      wamid: b.body.messages[0].id,
      product: "cloud_api",
      params: ["#42"],
    });
    expect(Date.parse(messages[0].at)).toBeGreaterThan(0);
    // since= filters by acceptance time, limit= caps the list.
    const future = await control("GET", `/messages?since=${Date.now() + 60_000}`);
    expect(future.count).toBe(0);
    expect((await control("GET", "/messages?limit=1")).messages).toHaveLength(1);
  });
});

describe("MM Lite product choice", () => {
  it("onboarded WABA → carried by MM Lite", async () => {
    await setupWaba({ onboarded: true });
    expect((await mm(sale())).status).toBe(200);
    const { messages } = await control("GET", "/messages");
    expect(messages[0].product).toBe("mm_lite");
  });

  it("legacy field ONBOARDED also counts", async () => {
    await setupWaba();
    await control("PUT", `/wabas/${WABA}`, { legacyStatus: "ONBOARDED" });
    await mm(sale());
    expect((await control("GET", "/messages")).messages[0].product).toBe("mm_lite");
  });

  it("not onboarded + default policy → accepted, carried by the Cloud API", async () => {
    await setupWaba();
    const r = await mm(sale());
    expect(r.status).toBe(200);
    expect((await control("GET", "/messages")).messages[0].product).toBe("cloud_api");
    const stats = await control("GET", "/stats");
    expect(stats.products).toEqual({ mm_lite: 0, cloud_api: 1 });
    expect(stats.sends.send_mm_lite.accepted).toBe(1);
  });

  it("not onboarded + STRICT → 131055, nothing accepted", async () => {
    await setupWaba();
    const r = await mm(sale({ product_policy: "STRICT" }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(131055);
    expect(r.body.error.message).toMatch(
      /^\(#131055\) .*You must accept the Marketing Messages Lite API terms/,
    );
    expect((await control("GET", "/messages")).count).toBe(0);
  });

  it("non-marketing template on MM Lite → 134100, on the Cloud API → fine", async () => {
    await setupWaba({ onboarded: true });
    const r = await mm(templateSend("order_update", ["#1"]));
    expect([r.status, r.body.error.code]).toEqual([400, 134100]);
    expect((await cloud(templateSend("order_update", ["#1"]))).status).toBe(200);
  });
});

describe("template checks", () => {
  it.each([
    ["unknown name", templateSend("nope", []), 132001],
    ["wrong language", templateSend("fall_sale", ["a", "b"], {}, "en_US"), 132001],
    ["paused", templateSend("paused_promo", []), 132015],
    ["disabled", templateSend("disabled_promo", []), 132016],
    ["pending (not approved)", templateSend("pending_promo", []), 132001],
    ["too few params", templateSend("fall_sale", ["Ana"]), 132000],
    ["too many params", templateSend("fall_sale", ["a", "b", "c"]), 132000],
    ["no params at all", templateSend("fall_sale", []), 132000],
  ])("%s → %i on both endpoints", async (_label, body, code) => {
    await setupWaba({ onboarded: true });
    for (const send of [mm, cloud]) {
      const r = await send(body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message.startsWith(`(#${code}) `)).toBe(true);
    }
    const stats = await control("GET", "/stats");
    expect(stats.sends.send_mm_lite.rejected).toEqual({ [code]: 1 });
    expect(stats.sends.send_cloud.rejected).toEqual({ [code]: 1 });
    expect(stats.accepted).toBe(0);
  });

  it("messages match Meta's texts", async () => {
    await setupWaba();
    expect((await cloud(templateSend("nope", []))).body.error.message).toBe(
      "(#132001) Template name does not exist in the translation",
    );
    expect((await cloud(templateSend("fall_sale", ["x"]))).body.error.message).toBe(
      "(#132000) Number of parameters does not match the expected number of params",
    );
  });

  it("a template changed through the control API takes effect at once", async () => {
    await setupWaba({ onboarded: true });
    const t = await control("PUT", `/wabas/${WABA}/templates/fall_sale/pt_BR`, { status: "PAUSED" });
    expect(t.status).toBe("PAUSED");
    expect((await mm(sale())).body.error.code).toBe(132015);
    await control("PUT", `/wabas/${WABA}/templates/fall_sale/pt_BR`, {
      status: "APPROVED",
      category: "UTILITY",
    });
    expect((await mm(sale())).body.error.code).toBe(134100);
    // Placeholders come from the body text: named ones count too.
    await control("PUT", `/wabas/${WABA}/templates/named/pt_BR`, {
      status: "APPROVED",
      category: "MARKETING",
      bodyText: "Hi {{first_name}}, {{first_name}} again and {{code}}",
    });
    expect((await mm(templateSend("named", ["a", "b"]))).status).toBe(200);
  });

  it("control API 404s for unknown WABA / incomplete new template", async () => {
    await setupWaba();

    const a = await sim(`/_sim/wabas/${WABA}/templates/new_one/pt_BR`, {
      method: "PUT",
      json: { status: "APPROVED" },
    });
    expect(a.status).toBe(404);
    const b = await sim("/_sim/wabas/404/templates/x/pt_BR", {
      method: "PUT",
      json: { status: "APPROVED", category: "MARKETING" },
    });
    expect(b.status).toBe(404);
    const c = await sim(`/_sim/wabas/${WABA}`, { method: "PUT", json: { onboardingStatus: "MAYBE" } });
    expect(c.status).toBe(400);
  });
});
