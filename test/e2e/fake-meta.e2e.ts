/**
 * The Meta fake checked against docs/meta-platform.md on its own (no gateway): if it drifted from
 * Meta, the contract tests would prove nothing.
 */
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeMeta, statusNotification } from "./fake-meta";

let fake: FakeMeta;
const WABA = "102290129340398";
const PHONE = "106540352242922";

beforeAll(async () => {
  fake = await FakeMeta.start({ maxPageSize: 2, accessToken: "tok" });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.upsertWaba({
    id: WABA,
    onboardingStatus: "ELIGIBLE",
    phoneNumbers: [{ id: PHONE, throughputMps: 3 }],
    templates: [
      {
        name: "fall_sale",
        language: "pt_BR",
        status: "APPROVED",
        category: "MARKETING",
        bodyText: "Oi {{1}} {{2}}",
      },
      {
        name: "fall_sale_v2",
        language: "pt_BR",
        status: "APPROVED",
        category: "MARKETING",
        bodyText: "Oi {{1}}",
      },
      {
        name: "fall_sale",
        language: "en_US",
        status: "PENDING",
        category: "MARKETING",
        bodyText: "Hi {{1}}",
      },
      {
        name: "receipt",
        language: "pt_BR",
        status: "APPROVED",
        category: "UTILITY",
        bodyText: "Recibo {{1}}",
      },
    ],
  });
});

async function graph(method: string, path: string, body?: unknown, token: string | null = "tok") {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${fake.graphUrl()}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

function sendBody(params: string[], extra: Record<string, unknown> = {}, name = "fall_sale") {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: "5511999990001",
    type: "template",
    template: {
      name,
      language: { code: "pt_BR" },
      components: [{ type: "body", parameters: params.map((text) => ({ type: "text", text })) }],
    },
    ...extra,
  };
}

describe("fake Meta", () => {
  it("refuses a missing or wrong token with 190", async () => {
    for (const token of [null, "nope"]) {
      const r = await graph("GET", `/${WABA}?fields=marketing_messages_onboarding_status`, undefined, token);
      expect(r.status).toBe(401);
      expect(r.json.error).toMatchObject({ code: 190, type: "OAuthException" });
    }
  });

  it("answers the onboarding status fields asked for, omitting null ones", async () => {
    fake.setOnboarding(WABA, "ONBOARDED", null);
    const r = await graph(
      "GET",
      `/${WABA}?fields=marketing_messages_onboarding_status,marketing_messages_lite_api_status`,
    );
    expect(r).toEqual({ status: 200, json: { marketing_messages_onboarding_status: "ONBOARDED", id: WABA } });
    expect((await graph("GET", `/${WABA}?fields=bogus`)).json.error.code).toBe(100);
  });

  it("pages message_templates with cursors; no `next` on the last page; the name filter is loose", async () => {
    const first = await graph("GET", `/${WABA}/message_templates?name=fall_sale&fields=name,language,status`);
    expect(first.json.data).toHaveLength(2);
    expect(first.json.paging.cursors.after).toBeTypeOf("string");
    expect(first.json.paging.next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v25\.0\//);
    const next = new URL(first.json.paging.next);
    const second = await graph("GET", `${next.pathname.replace(/^\/v25\.0/, "")}${next.search}`);
    expect(second.json.data).toHaveLength(1);
    expect(second.json.paging).not.toHaveProperty("next");
    const names = [...first.json.data, ...second.json.data].map((t: any) => `${t.name}/${t.language}`);
    expect(names).toEqual(["fall_sale/pt_BR", "fall_sale_v2/pt_BR", "fall_sale/en_US"]);
    expect(Object.keys(first.json.data[0]).sort()).toEqual(["language", "name", "status"]);
    expect((await graph("GET", `/${WABA}/message_templates?name=zzz`)).json).toEqual({ data: [] });
  });

  it("sends: Meta's success body with unique wamids, and the template checks", async () => {
    const a = await graph("POST", `/${PHONE}/messages`, sendBody(["Ana", "15/08"]));
    const b = await graph("POST", `/${PHONE}/messages`, sendBody(["Bia", "16/08"]));
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({
      messaging_product: "whatsapp",
      contacts: [{ input: "5511999990001", wa_id: "5511999990001" }],
      messages: [{ message_status: "accepted" }],
    });
    expect(a.json.messages[0].id).toMatch(/^wamid\./);
    expect(a.json.messages[0].id).not.toBe(b.json.messages[0].id);
    expect((await graph("POST", `/${PHONE}/messages`, sendBody(["Ana"]))).json.error.code).toBe(132000);
    const pending = sendBody(["Ana"]);
    pending.template.language.code = "en_US";
    expect((await graph("POST", `/${PHONE}/messages`, pending)).json.error.code).toBe(132001);
    expect((await graph("POST", "/999/messages", sendBody(["Ana", "x"]))).json.error.code).toBe(100);
    expect((await graph("POST", `/${PHONE}/messages`, { to: "1" })).json.error.code).toBe(100);
    expect(fake.acceptedSends(PHONE)).toHaveLength(2);
    expect(fake.sends(PHONE)).toHaveLength(5);
  });

  it("MM Lite honours product_policy and accepts marketing templates only", async () => {
    const strict = await graph(
      "POST",
      `/${PHONE}/marketing_messages`,
      sendBody(["A", "B"], { product_policy: "STRICT" }),
    );
    expect(strict.status).toBe(400);
    expect(strict.json.error.code).toBe(131055);
    const fallback = await graph("POST", `/${PHONE}/marketing_messages`, sendBody(["A", "B"]));
    expect(fallback.status).toBe(200);
    expect(fake.acceptedSends(PHONE).at(-1)?.carriedBy).toBe("cloud_api");
    fake.setOnboarding(WABA, "ONBOARDED");
    const ok = await graph(
      "POST",
      `/${PHONE}/marketing_messages`,
      sendBody(["A", "B"], { product_policy: "STRICT" }),
    );
    expect(ok.status).toBe(200);
    expect(fake.acceptedSends(PHONE).at(-1)?.carriedBy).toBe("mm_lite");
    const utility = await graph("POST", `/${PHONE}/marketing_messages`, sendBody(["A"], {}, "receipt"));
    expect(utility.json.error.code).toBe(134100);
    const policyOnCloud = await graph(
      "POST",
      `/${PHONE}/messages`,
      sendBody(["A", "B"], { product_policy: "STRICT" }),
    );
    expect(policyOnCloud.json.error.code).toBe(100);
  });

  it("throttles a number over its sliding one-second window with 130429", async () => {
    // Ten at once on loopback: all arrive well within one second.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => graph("POST", `/${PHONE}/messages`, sendBody(["A", "B"]))),
    );
    const throttled = results.filter((r) => r.json.error?.code === 130429);
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(3);
    expect(throttled.length).toBeGreaterThanOrEqual(7);
    expect(throttled[0]?.status).toBe(400);
    expect(throttled[0]?.json.error.error_subcode).toBe(2494055);
    expect(fake.maxInAnySecond(PHONE)).toBeLessThanOrEqual(3);
  });

  it("injects faults by kind, count and rate", async () => {
    const once = fake.addFault({ on: "send", times: 1, httpStatus: 503, code: 1 });
    expect((await graph("POST", `/${PHONE}/messages`, sendBody(["A", "B"]))).status).toBe(503);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await graph("POST", `/${PHONE}/messages`, sendBody(["A", "B"]))).status).toBe(200);
    expect(once.fired).toBe(1);
    const raw = fake.addFault({ on: "waba_status", httpStatus: 502, rawBody: "<html>bad gateway</html>" });
    const res = await fetch(`${fake.graphUrl()}/${WABA}?fields=id`, {
      headers: { authorization: "Bearer tok" },
    });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("bad gateway");
    raw.remove();
    const never = fake.addFault({ on: "templates", rate: 0, httpStatus: 500, code: 1 });
    expect((await graph("GET", `/${WABA}/message_templates`)).status).toBe(200);
    expect(never.fired).toBe(0);
  });

  it("records every request", async () => {
    await graph("GET", `/${WABA}?fields=id`);
    const [rec] = fake.requests();
    expect(rec).toMatchObject({
      method: "GET",
      path: `/v25.0/${WABA}`,
      kind: "waba_status",
      version: "v25.0",
      wabaId: WABA,
      authorization: "Bearer tok",
      status: 200,
    });
    expect(rec?.at).toBeTypeOf("number");
  });

  it("posts webhooks signed with HMAC-SHA256 of the raw body", async () => {
    const received: { sig: string | undefined; raw: string }[] = [];
    const srv = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        received.push({
          sig: req.headers["x-hub-signature-256"] as string | undefined,
          raw: Buffer.concat(chunks).toString(),
        });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/webhooks/meta`;
      const payload = statusNotification({
        wabaId: WABA,
        phoneNumberId: PHONE,
        statuses: [
          {
            wamid: "wamid.X",
            status: "delivered",
            recipientId: "5511999990001",
            pricingCategory: "marketing_lite",
          },
        ],
      });
      expect((await fake.postWebhook(url, payload)).status).toBe(200);
      await fake.postWebhook(url, payload, { signature: null });
      const got = received[0];
      const expected = `sha256=${createHmac("sha256", fake.appSecret)
        .update(got?.raw ?? "")
        .digest("hex")}`;
      expect(got?.sig).toBe(expected);
      expect(JSON.parse(got?.raw ?? "{}").entry[0].changes[0].value.statuses[0].pricing.category).toBe(
        "marketing_lite",
      );
      expect(received[1]?.sig).toBeUndefined();
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
