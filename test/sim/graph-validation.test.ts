// Auth, request validation and unknown objects: the errors Meta answers before anything is sent.
import { beforeEach, describe, expect, it } from "vitest";
import { control, graph, type Json, PHONE, setupWaba, sim, TO, templateSend } from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
  await setupWaba({ onboarded: true });
});

describe("auth", () => {
  it.each([
    ["missing", undefined],
    ["wrong", "Bearer nope"],
  ])("%s token → 401 OAuthException 190", async (_label, header) => {
    const res = await sim(`/v25.0/${PHONE}/messages`, {
      method: "POST",
      json: templateSend("fall_sale", ["a", "b"]),
      headers: header ? { authorization: header } : {},
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as Json;
    expect(body.error.code).toBe(190);
    expect(body.error.type).toBe("OAuthException");
    expect(body.error.message).toBe("Invalid OAuth access token - Cannot parse access token");
    expect(typeof body.error.fbtrace_id).toBe("string");
  });

  it("accepts the token as access_token query parameter, on Json version", async () => {
    const res = await sim(`/v24.0/${PHONE}?access_token=test-meta-token&fields=display_phone_number`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ display_phone_number: "15550783881", id: PHONE });
  });
});

describe("send validation → (#100) Invalid parameter, HTTP 400", () => {
  const base = templateSend("fall_sale", ["Ana", "15/08"]);
  const cases: [string, unknown][] = [
    ["messaging_product", { ...base, messaging_product: "sms" }],
    ["to not digits", { ...base, to: "55-11-9999" }],
    ["to missing", { ...base, to: undefined }],
    ["type text", { ...base, type: "text", text: { body: "hi" } }],
    ["template missing", { ...base, template: undefined }],
    ["template.name", { ...base, template: { ...base.template, name: "" } }],
    ["language.code", { ...base, template: { name: "fall_sale", language: {} } }],
    ["components not array", { ...base, template: { ...base.template, components: {} } }],
    ["component type", { ...base, template: { ...base.template, components: [{ type: "nope" }] } }],
    [
      "text param without text",
      {
        ...base,
        template: { ...base.template, components: [{ type: "body", parameters: [{ type: "text" }] }] },
      },
    ],
    [
      "button without sub_type",
      {
        ...base,
        template: { ...base.template, components: [{ type: "button", index: "0", parameters: [] }] },
      },
    ],
    ["body not JSON object", "not json"],
  ];
  it.each(cases)("%s", async (_label, body) => {
    const res = await sim(`/v25.0/${PHONE}/messages`, {
      method: "POST",
      headers: { authorization: "Bearer test-meta-token", "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    const json = (await res.json()) as Json;
    expect(json.error.code).toBe(100);
    expect(json.error.message).toBe("(#100) Invalid parameter");
    expect(json.error.error_data.messaging_product).toBe("whatsapp");
    expect(json.error.error_data.details.length).toBeGreaterThan(0);
  });

  it("MM Lite rejects an unknown product_policy; Cloud API rejects product_policy at all", async () => {
    const mm = await graph("POST", `/${PHONE}/marketing_messages`, { ...base, product_policy: "LOOSE" });
    expect([mm.status, mm.body.error.code]).toEqual([400, 100]);
    const cloud = await graph("POST", `/${PHONE}/messages`, { ...base, product_policy: "STRICT" });
    expect([cloud.status, cloud.body.error.code]).toEqual([400, 100]);
  });

  it("accepts a leading + and every component kind Meta documents", async () => {
    const r = await graph("POST", `/${PHONE}/messages`, {
      ...base,
      to: `+${TO}`,
      template: {
        name: "fall_sale",
        language: { code: "pt_BR", policy: "deterministic" },
        components: [
          { type: "header", parameters: [{ type: "image", image: { link: "https://x.test/a.png" } }] },
          {
            type: "body",
            parameters: [
              { type: "text", text: "Ana" },
              { type: "currency", currency: { fallback_value: "R$10", code: "BRL", amount_1000: 10000 } },
            ],
          },
          { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: "x" }] },
          {
            type: "button",
            sub_type: "quick_reply",
            index: 1,
            parameters: [{ type: "payload", payload: "p" }],
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.contacts).toEqual([{ input: `+${TO}`, wa_id: TO }]);
    const { messages } = await control("GET", "/messages");
    expect(messages[0].params).toEqual(["Ana", "R$10"]);
  });
});

describe("unknown objects", () => {
  it("send to an unknown phone number id → 100 GraphMethodException, counted as rejected", async () => {
    const r = await graph("POST", "/999000111/messages", templateSend("fall_sale", ["a", "b"]));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(100);
    expect(r.body.error.error_subcode).toBe(33);
    expect(r.body.error.type).toBe("GraphMethodException");
    expect(r.body.error.message).toMatch(
      /^Unsupported post request\. Object with ID '999000111' does not exist/,
    );
    const stats = await control("GET", "/stats");
    expect(stats.sends.send_cloud).toEqual({ total: 1, accepted: 0, rejected: { "100": 1 }, dropped: 0 });
  });

  it("unknown WABA read → 100 / 400", async () => {
    const r = await graph("GET", "/123123123?fields=marketing_messages_onboarding_status");
    expect([r.status, r.body.error.code]).toEqual([400, 100]);
    expect(r.body.error.message).toMatch(/^Unsupported get request\. Object with ID '123123123'/);
  });

  it("other Graph edges are unsupported; paths without a version are 404", async () => {
    const r = await graph("POST", `/${PHONE}/register`, {});
    expect([r.status, r.body.error.code]).toEqual([400, 100]);
    expect((await sim("/foo/bar")).status).toBe(404);
  });
});
