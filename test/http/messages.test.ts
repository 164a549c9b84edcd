import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { gw, sendBody, settled, setupBot, sim, statusQueries } from "../helpers";

afterEach(async () => {
  await sim("DELETE", "/_sim/faults");
  vi.restoreAllMocks();
});

async function send(
  apiKey: string,
  over: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await gw("/v1/messages", { method: "POST", key: apiKey, json: sendBody(over), headers });
  return { status: res.status, body: (await res.json()) as any, res };
}

async function simMessage(wamid: string) {
  const list = await sim("GET", "/_sim/messages?limit=1000");
  return (list.messages as any[]).find((m) => m.wamid === wamid);
}

describe("POST /v1/messages: routing reasons end to end", () => {
  it("activates MM Lite on the first send (one Meta query), then serves the cache", async () => {
    const bot = await setupBot({ onboarding: "ONBOARDED" });
    const first = await send(bot.apiKey);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      to: "+5511999990001",
      status: "queued",
      route: "mm_lite",
      routeReason: "mm_lite_activated",
    });
    expect(first.body.id).toMatch(/^msg_/);
    expect(first.body.campaignId).toMatch(/^cmp_/);
    expect(await statusQueries(bot.wabaId)).toBe(1);

    const second = await send(bot.apiKey);
    expect(second.body).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_active" });
    expect(await statusQueries(bot.wabaId)).toBe(1); // cache hit: no call to Meta

    const done = await settled(bot.apiKey, first.body.id);
    expect(done).toMatchObject({
      status: "accepted",
      route: "mm_lite",
      routeReason: "mm_lite_activated",
      error: null,
    });
    expect(done.wamid).toMatch(/^wamid\./);
    expect(done.acceptedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const atMeta = await simMessage(done.wamid);
    expect(atMeta).toMatchObject({
      product: "mm_lite",
      to: "5511999990001",
      template: "fall_sale",
      params: ["Ana", "15/08"],
    });

    const row = await env.DB.prepare("SELECT onboarding_status, activated_at FROM wabas WHERE id = ?")
      .bind(bot.wabaId)
      .first();
    expect(row).toMatchObject({ onboarding_status: "ONBOARDED" });
    expect(row?.activated_at).not.toBeNull();
  });

  it("counts ONBOARDED in the older field too", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE", legacy: "ONBOARDED" });
    expect((await send(bot.apiKey)).body).toMatchObject({
      route: "mm_lite",
      routeReason: "mm_lite_activated",
    });
  });

  it("sends through the Cloud API when the WABA is not onboarded", async () => {
    const bot = await setupBot({ onboarding: "INELIGIBLE_ON_BEHALF_OF_WABA" });
    const { body } = await send(bot.apiKey);
    expect(body).toMatchObject({ route: "cloud_api", routeReason: "waba_not_onboarded" });
    const done = await settled(bot.apiKey, body.id);
    expect(done.status).toBe("accepted");
    expect((await simMessage(done.wamid)).product).toBe("cloud_api");
    // The negative answer is cached (briefly): a second send does not ask Meta again.
    await send(bot.apiKey);
    expect(await statusQueries(bot.wabaId)).toBe(1);
  });

  it("honours the bot restriction without asking Meta", async () => {
    const bot = await setupBot({ restricted: true });
    expect((await send(bot.apiKey)).body).toMatchObject({
      route: "cloud_api",
      routeReason: "bot_restricted",
    });
    expect(await statusQueries(bot.wabaId)).toBe(0);
  });

  it("sends non-marketing templates through the Cloud API", async () => {
    const bot = await setupBot();
    const { body } = await send(bot.apiKey, {
      template: { name: "order_update", language: "pt_BR", params: ["123"] },
    });
    expect(body).toMatchObject({ route: "cloud_api", routeReason: "template_not_marketing" });
    expect(await statusQueries(bot.wabaId)).toBe(0);
  });

  it("route cloud_api: honoured while MM Lite is inactive, refused with 409 once it is active", async () => {
    const inactive = await setupBot({ onboarding: "ELIGIBLE" });
    expect((await send(inactive.apiKey, { route: "cloud_api" })).body).toMatchObject({
      route: "cloud_api",
      routeReason: "cloud_api_requested",
    });
    const active = await setupBot({ onboarding: "ONBOARDED" });
    const refused = await send(active.apiKey, { route: "cloud_api" });
    expect(refused.status).toBe(409);
    expect(refused.res.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ code: "mm_lite_required", status: 409 });
    // A non-marketing template keeps its natural reason even when the Cloud API is requested.
    const utility = await send(active.apiKey, {
      route: "cloud_api",
      template: { name: "order_update", language: "pt_BR", params: ["1"] },
    });
    expect(utility.body).toMatchObject({ route: "cloud_api", routeReason: "template_not_marketing" });
  });

  it("falls back to the Cloud API when Meta's status cannot be read, and asks again later", async () => {
    const bot = await setupBot({ onboarding: "ONBOARDED" });
    await sim("PUT", "/_sim/faults", { wabaStatusUnavailable: true });
    const { body } = await send(bot.apiKey);
    expect(body).toMatchObject({ route: "cloud_api", routeReason: "meta_status_unavailable" });
    expect((await settled(bot.apiKey, body.id)).status).toBe("accepted");
    const cached = await env.CACHE.get(`waba-status:${bot.wabaId}`);
    expect(cached).toBeNull(); // never put in KV
  });

  it("re-sends through the Cloud API when MM Lite refuses, and drops the WABA's cached status", async () => {
    for (const code of [131055, 134100, 134102]) {
      const bot = await setupBot({ onboarding: "ONBOARDED" });
      await sim("PUT", "/_sim/faults", {
        rules: [
          { endpoint: "send_mm_lite", phoneNumberId: bot.phoneNumberId, code, httpStatus: 400, count: 1 },
        ],
      });
      const { body } = await send(bot.apiKey);
      expect(body).toMatchObject({ route: "mm_lite", routeReason: "mm_lite_activated" });
      const done = await settled(bot.apiKey, body.id);
      expect(done, String(code)).toMatchObject({
        status: "accepted",
        route: "cloud_api",
        routeReason: "mm_lite_rejected_fallback",
      });
      expect((await simMessage(done.wamid)).product).toBe("cloud_api");
      expect(await env.CACHE.get(`waba-status:${bot.wabaId}`)).toBeNull();
      // The campaign keeps the route decided at its start.
      const campaign = await env.DB.prepare("SELECT route, route_reason FROM campaigns WHERE id = ?")
        .bind(body.campaignId)
        .first();
      expect(campaign).toEqual({ route: "mm_lite", route_reason: "mm_lite_activated" });
      // The next send asks Meta again (and, still ONBOARDED, activates again).
      expect((await send(bot.apiKey)).body.routeReason).toBe("mm_lite_activated");
      expect(await statusQueries(bot.wabaId)).toBe(2);
    }
  });

  it("50 concurrent first sends cause exactly one status query at Meta", async () => {
    const bot = await setupBot({ onboarding: "ONBOARDED", throughputMps: 1000 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => send(bot.apiKey)));
    expect(answers.every((a) => a.status === 202 && a.body.route === "mm_lite")).toBe(true);
    expect(await statusQueries(bot.wabaId)).toBe(1);
    const reasons = answers.map((a) => a.body.routeReason);
    expect(reasons.filter((r) => r === "mm_lite_activated")).toHaveLength(1);
    expect(reasons.filter((r) => r === "mm_lite_active")).toHaveLength(49);
  });
});

describe("POST /v1/messages: refusals", () => {
  it("refuses template and number problems with 422 and writes nothing", async () => {
    const bot = await setupBot();
    const cases: [Record<string, unknown>, string][] = [
      [{ template: { name: "nope", language: "pt_BR", params: [] } }, "template_not_found"],
      [{ template: { name: "fall_sale", language: "en_US", params: ["a", "b"] } }, "template_not_found"],
      [{ template: { name: "winter_sale", language: "pt_BR", params: ["a"] } }, "template_not_approved"],
      [{ template: { name: "fall_sale", language: "pt_BR", params: ["a"] } }, "template_params_mismatch"],
      [
        { template: { name: "fall_sale", language: "pt_BR", params: ["a", "b", "c"] } },
        "template_params_mismatch",
      ],
      [{ to: "12ab" }, "invalid_phone"],
      [{ to: "+999 123" }, "invalid_phone"],
    ];
    for (const [over, code] of cases) {
      const res = await send(bot.apiKey, over);
      expect(res.status, code).toBe(422);
      expect(res.body).toMatchObject({ type: "about:blank", status: 422, code });
    }
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE bot_id = ?")
      .bind(bot.id)
      .first("n");
    expect(count).toBe(0);
  });

  it("refuses bad JSON and bad bodies with 400", async () => {
    const bot = await setupBot();
    const malformed = await gw("/v1/messages", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: "invalid_json" });

    const bodies: [unknown, string][] = [
      [{ template: { name: "fall_sale", language: "pt_BR" } }, "to"],
      [{ to: "+5511999990001" }, "template"],
      [{ ...sendBody(), route: "mm_lite" }, "route"],
      [
        { ...sendBody(), template: { name: "fall_sale", language: "pt_BR", params: [1, 2] } },
        "template.params.0",
      ],
      [{ ...sendBody(), template: { name: "f", language: "pt_BR", params: [], components: [] } }, "template"],
      [[1, 2], ""],
    ];
    for (const [json, path] of bodies) {
      const res = await gw("/v1/messages", { method: "POST", key: bot.apiKey, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      const problem = (await res.json()) as any;
      expect(problem.code).toBe("invalid_request");
      expect(problem.errors.map((e: any) => e.path)).toContain(path);
    }
  });

  it("answers 503 meta_unavailable with Retry-After when templates cannot be read and nothing is cached", async () => {
    const bot = await setupBot();
    await sim("PUT", "/_sim/faults", {
      rules: [{ endpoint: "templates", wabaId: bot.wabaId, code: 2, httpStatus: 503 }],
    });
    const res = await send(bot.apiKey);
    expect(res.status).toBe(503);
    expect(res.res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(res.body).toMatchObject({ code: "meta_unavailable" });
  });
});

describe("idempotency", () => {
  it("replays the first answer for the same key and body, and sends once", async () => {
    const bot = await setupBot();
    const headers = { "idempotency-key": "order-42" };
    const a = await send(bot.apiKey, {}, headers);
    // Same JSON value with the keys in another order.
    const reordered = {
      template: { params: ["Ana", "15/08"], language: "pt_BR", name: "fall_sale" },
      to: "+55 11 99999-0001",
    };
    const res = await gw("/v1/messages", { method: "POST", key: bot.apiKey, json: reordered, headers });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual(a.body);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE bot_id = ?")
      .bind(bot.id)
      .first("n");
    expect(n).toBe(1);
    const done = await settled(bot.apiKey, a.body.id);
    const atMeta = (await sim("GET", "/_sim/messages?limit=1000")).messages.filter(
      (m: any) => m.phoneNumberId === bot.phoneNumberId,
    );
    expect(atMeta.map((m: any) => m.wamid)).toEqual([done.wamid]);
  });

  it("409s the same key with a different body; keys are per bot", async () => {
    const bot = await setupBot();
    const other = await setupBot();
    const headers = { "idempotency-key": "k1" };
    expect((await send(bot.apiKey, {}, headers)).status).toBe(202);
    const conflict = await send(bot.apiKey, { to: "+5511999990002" }, headers);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ code: "idempotency_conflict" });
    expect((await send(other.apiKey, { to: "+5511999990002" }, headers)).status).toBe(202);
  });

  it("replays a refusal as it was", async () => {
    const bot = await setupBot();
    const headers = { "idempotency-key": "bad-1" };
    const first = await send(bot.apiKey, { to: "12ab" }, headers);
    const again = await send(bot.apiKey, { to: "12ab" }, headers);
    expect(first.status).toBe(422);
    expect(again.status).toBe(422);
    expect(again.res.headers.get("content-type")).toBe("application/problem+json");
    expect(again.body).toEqual(first.body);
  });
});

describe("authentication and isolation", () => {
  it("401s a missing or unknown key", async () => {
    const bot = await setupBot();
    const forged = `${bot.apiKey.slice(0, -4)}AAAA`;
    for (const authorization of [undefined, "Key nope", `Key ${forged}`, `Basic ${bot.apiKey}`]) {
      const res = await gw("/v1/messages", {
        method: "POST",
        json: sendBody(),
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: "unauthorized" });
    }
    const bearer = await gw("/v1/messages", {
      method: "POST",
      json: sendBody(),
      headers: { authorization: `Bearer ${bot.apiKey}` },
    });
    expect(bearer.status).toBe(202);
  });

  it("404s another bot's message (never 403)", async () => {
    const a = await setupBot();
    const b = await setupBot();
    const { body } = await send(a.apiKey);
    expect((await gw(`/v1/messages/${body.id}`, { key: a.apiKey })).status).toBe(200);
    const res = await gw(`/v1/messages/${body.id}`, { key: b.apiKey });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
    expect((await gw("/v1/messages/msg_unknown", { key: a.apiKey })).status).toBe(404);
  });

  it("never writes secrets or API keys to logs or responses", async () => {
    const lines: string[] = [];
    for (const fn of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, fn).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const bot = await setupBot();
    await sim("PUT", "/_sim/faults", {
      rules: [{ endpoint: "send_cloud", phoneNumberId: bot.phoneNumberId, code: 190, httpStatus: 401 }],
    });
    const bodies: string[] = [];
    const a = await send(bot.apiKey, {
      template: { name: "order_update", language: "pt_BR", params: ["1"] },
    });
    bodies.push(JSON.stringify(a.body), JSON.stringify(await settled(bot.apiKey, a.body.id)));
    bodies.push(await (await gw(`/admin/bots/${bot.id}`, { admin: true })).text());
    bodies.push(
      await (
        await gw("/v1/messages", {
          method: "POST",
          key: bot.apiKey,
          body: "{",
          headers: { "content-type": "application/json" },
        })
      ).text(),
    );
    const all = [...lines, ...bodies].join("\n");
    for (const secret of [
      bot.apiKey,
      "test-meta-token",
      "test-app-secret",
      "test-admin-token",
      "test-verify-token",
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});

describe("sending", () => {
  it("retries transient Meta errors and sends exactly once", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    await sim("PUT", "/_sim/faults", {
      rules: [
        { endpoint: "send_cloud", phoneNumberId: bot.phoneNumberId, code: 131000, httpStatus: 500, count: 1 },
      ],
    });
    const { body } = await send(bot.apiKey);
    const done = await settled(bot.apiKey, body.id, 15_000);
    expect(done.status).toBe("accepted");
    const atMeta = (await sim("GET", "/_sim/messages?limit=1000")).messages.filter(
      (m: any) => m.phoneNumberId === bot.phoneNumberId,
    );
    expect(atMeta).toHaveLength(1);
    const row = await env.DB.prepare("SELECT attempts FROM messages WHERE id = ?")
      .bind(body.id)
      .first("attempts");
    expect(row).toBe(2);
  });

  it("records permanent errors without retrying", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    await sim("PUT", "/_sim/faults", {
      rules: [{ endpoint: "send_cloud", phoneNumberId: bot.phoneNumberId, code: 131026, httpStatus: 400 }],
    });
    const { body } = await send(bot.apiKey);
    const done = await settled(bot.apiKey, body.id);
    expect(done).toMatchObject({ status: "failed", wamid: null, error: { code: 131026 } });
    expect(done.failedAt).not.toBeNull();
  });
});
