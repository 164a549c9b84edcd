import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OUTCOME_UNKNOWN_TITLE } from "../../src/sending/outcome";
import { gw, setupBot, sim, type TestBot } from "../helpers";

afterEach(async () => {
  await sim("DELETE", "/_sim/faults");
});

const template = { name: "fall_sale", language: "pt_BR" };

async function postJson(bot: TestBot, body: unknown, headers: Record<string, string> = {}) {
  const res = await gw("/v1/campaigns", { method: "POST", key: bot.apiKey, json: body, headers });
  return { status: res.status, body: (await res.json()) as any, res };
}

async function postCsv(bot: TestBot, csv: string, query = "name=bf&template=fall_sale&language=pt_BR") {
  const res = await gw(`/v1/campaigns?${query}`, {
    method: "POST",
    key: bot.apiKey,
    headers: { "content-type": "text/csv" },
    body: csv,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function detail(bot: TestBot, id: string) {
  return (await (await gw(`/v1/campaigns/${id}`, { key: bot.apiKey })).json()) as any;
}

async function untilDone(bot: TestBot, id: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = await detail(bot, id);
    if (c.status !== "sending" || Date.now() > until) return c;
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function sendsAtMeta(bot: TestBot) {
  const list = await sim("GET", `/_sim/messages?limit=5000&phoneNumberId=${bot.phoneNumberId}`);
  return list.messages as { to: string; params: string[]; product: string; at: string }[];
}

describe("POST /v1/campaigns (JSON)", () => {
  it("takes in the audience, drops duplicates, keeps bad rows as invalid, sends the rest once", async () => {
    const bot = await setupBot({ onboarding: "ONBOARDED", throughputMps: 200 });
    const { status, body } = await postJson(bot, {
      name: "Black Friday",
      template,
      audience: [
        { to: "+5511999990001", params: ["Ana", "15/08"] },
        { to: "12ab", params: ["x", "y"] },
        { to: "+55 11 99999-0001", params: ["Ana again", "15/08"] },
        { to: "+5511999990002", params: ["Bia"] },
        { to: "5511999990003", params: ["Caio", "16/08"] },
      ],
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({
      name: "Black Friday",
      status: "sending",
      type: "batch",
      total: 2,
      invalid: 2,
      duplicates: 1,
      route: "mm_lite",
      routeReason: "mm_lite_activated",
      invalidRows: [
        { row: 1, value: "12ab", reason: "invalid_phone" },
        { row: 3, value: "+5511999990002", reason: "template_params_mismatch" },
      ],
    });
    const done = await untilDone(bot, body.id);
    expect(done).toMatchObject({
      status: "completed",
      total: 2,
      counts: { queued: 0, accepted: 2, invalid: 2, failed: 0, cancelled: 0 },
      funnel: { accepted: 2 },
      template: { name: "fall_sale", language: "pt_BR", category: "MARKETING" },
    });
    expect(done.completedAt).not.toBeNull();
    const sent = await sendsAtMeta(bot);
    expect(sent.map((m) => [m.to, m.params, m.product]).sort()).toEqual([
      ["5511999990001", ["Ana", "15/08"], "mm_lite"],
      ["5511999990003", ["Caio", "16/08"], "mm_lite"],
    ]);
    const rows = await env.DB.prepare(
      "SELECT route, route_reason FROM messages WHERE campaign_id = ? AND status <> 'invalid'",
    )
      .bind(body.id)
      .all();
    expect(rows.results.every((r) => r.route === "mm_lite" && r.route_reason === "mm_lite_activated")).toBe(
      true,
    );
  });

  it("refuses an empty audience or one without a valid row, and leaves nothing behind", async () => {
    const bot = await setupBot();
    const empty = await postJson(bot, { name: "x", template, audience: [] });
    expect(empty.status).toBe(422);
    expect(empty.body).toMatchObject({ code: "empty_audience" });
    const bad = await postJson(bot, { name: "x", template, audience: [{ to: "nope", params: ["a", "b"] }] });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: "empty_audience" });
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM campaigns WHERE bot_id = ?")
      .bind(bot.id)
      .first("n");
    expect(n).toBe(0);
    const m = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE bot_id = ?")
      .bind(bot.id)
      .first("n");
    expect(m).toBe(0);
  });

  it("refuses template problems as for messages, and bad bodies with 400", async () => {
    const bot = await setupBot();
    const audience = [{ to: "+5511999990001", params: ["a"] }];
    expect(
      (await postJson(bot, { name: "x", template: { name: "nope", language: "pt_BR" }, audience })).body.code,
    ).toBe("template_not_found");
    expect(
      (await postJson(bot, { name: "x", template: { name: "winter_sale", language: "pt_BR" }, audience }))
        .body.code,
    ).toBe("template_not_approved");
    const invalid = await postJson(bot, { name: "", template, audience: "x" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors.map((e: any) => e.path).sort()).toEqual(["audience", "name"]);
    const malformed = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: "invalid_json" });
  });

  it("replays an idempotent campaign creation", async () => {
    const bot = await setupBot();
    const body = { name: "once", template, audience: [{ to: "+5511999990001", params: ["a", "b"] }] };
    const headers = { "idempotency-key": "camp-1" };
    const a = await postJson(bot, body, headers);
    const b = await postJson(bot, body, headers);
    expect(b.status).toBe(202);
    expect(b.body).toEqual(a.body);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM campaigns WHERE bot_id = ?")
      .bind(bot.id)
      .first("n");
    expect(n).toBe(1);
  });
});

describe("POST /v1/campaigns (CSV and multipart)", () => {
  it("reads a CSV body with quotes, BOM, ; separators and CRLF; rows are file lines", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const csv =
      '\uFEFFname;phone;date\r\n"Ana; Maria";+55 11 99999-0001;15/08\r\nBia;12ab;16/08\r\n"Caio ""C""";5511999990003;17/08\r\n';
    const { status, body } = await postCsv(bot, csv);
    expect(status).toBe(202);
    expect(body).toMatchObject({
      total: 2,
      invalid: 1,
      duplicates: 0,
      invalidRows: [{ row: 3, value: "12ab", reason: "invalid_phone" }],
    });
    await untilDone(bot, body.id);
    const sent = await sendsAtMeta(bot);
    expect(sent.map((m) => m.params).sort()).toEqual([
      ["Ana; Maria", "15/08"],
      ['Caio "C"', "17/08"],
    ]);
  });

  it("answers invalid_csv without a phone column and leaves nothing behind", async () => {
    const bot = await setupBot();
    const { status, body } = await postCsv(bot, "name,date\nAna,15/08\n");
    expect(status).toBe(400);
    expect(body).toMatchObject({ code: "invalid_csv" });
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM campaigns WHERE bot_id = ?")
      .bind(bot.id)
      .first("n");
    expect(n).toBe(0);
  });

  it("requires name, template and language in the query", async () => {
    const bot = await setupBot();
    const { status, body } = await postCsv(bot, "phone,a,b\n+5511999990001,x,y\n", "name=x");
    expect(status).toBe(400);
    expect(body.errors.map((e: any) => e.path).sort()).toEqual(["language", "template"]);
  });

  it("takes a multipart upload", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const form = new FormData();
    form.set("name", "upload");
    form.set("template", "fall_sale");
    form.set("language", "pt_BR");
    form.set(
      "file",
      new File(["to,first,until\n+5511999990001,Ana,15/08\n+5511999990002,Bia,16/08\n"], "audience.csv"),
    );
    const res = await gw("/v1/campaigns", { method: "POST", key: bot.apiKey, body: form });
    expect(res.status).toBe(202);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ name: "upload", total: 2, invalid: 0 });
    expect((await untilDone(bot, body.id)).counts.accepted).toBe(2);
  });
});

describe("pacing, cancel, listing", () => {
  it("paces a campaign under the number's throughput as Meta counts it", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE", throughputMps: 20 });
    const audience = Array.from({ length: 50 }, (_, i) => ({
      to: `+55119999${String(i).padStart(5, "0")}`,
      params: ["a", "b"],
    }));
    const { body } = await postJson(bot, { name: "paced", template, audience });
    expect(body.total).toBe(50);
    const done = await untilDone(bot, body.id, 20_000);
    expect(done.counts.accepted).toBe(50);
    const stats = await sim("GET", "/_sim/stats");
    const number = stats.numbers[bot.phoneNumberId];
    expect(number.accepted).toBe(50);
    expect(number.throttled).toBe(0);
    expect(number.maxInAnySecond).toBeLessThanOrEqual(20);
    expect(number.maxInAnySecond).toBeGreaterThanOrEqual(15); // and it uses the rate
  });

  it("cancel stops what is not yet sent; a completed campaign cannot be cancelled", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE", throughputMps: 5 });
    const audience = Array.from({ length: 40 }, (_, i) => ({
      to: `+55119998${String(i).padStart(5, "0")}`,
      params: ["a", "b"],
    }));
    const { body } = await postJson(bot, { name: "to cancel", template, audience });
    await new Promise((r) => setTimeout(r, 1500));
    const res = await gw(`/v1/campaigns/${body.id}/cancel`, { method: "POST", key: bot.apiKey });
    expect(res.status).toBe(200);
    const cancelled = (await res.json()) as any;
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.counts.cancelled).toBeGreaterThan(20);
    // Sends already claimed when the cancel landed still go out; their jobs record the outcomes
    // when they end. Wait until every recipient has its final status.
    let after = await detail(bot, body.id);
    for (let i = 0; i < 100 && after.counts.queued > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await detail(bot, body.id);
    }
    expect(after.counts.queued).toBe(0);
    expect(after.counts.accepted + after.counts.cancelled + after.counts.failed).toBe(40);
    // Every send Meta took is recorded: accepted, or (no answer in time on a loaded test runner)
    // failed as outcome unknown, never re-sent. Nobody got two.
    const atMeta = await sendsAtMeta(bot);
    const unknown = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND status = 'failed' AND error_title = ?",
    )
      .bind(body.id, OUTCOME_UNKNOWN_TITLE)
      .first<{ n: number }>();
    expect(after.counts.accepted).toBeLessThanOrEqual(atMeta.length);
    expect(after.counts.accepted + (unknown?.n ?? 0)).toBeGreaterThanOrEqual(atMeta.length);
    expect(new Set(atMeta.map((m) => m.to)).size).toBe(atMeta.length);
    // And nothing leaves after that.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await sendsAtMeta(bot)).length).toBe(atMeta.length);

    const small = await postJson(bot, {
      name: "small",
      template,
      audience: [{ to: "+5511999990001", params: ["a", "b"] }],
    });
    await untilDone(bot, small.body.id);
    const refused = await gw(`/v1/campaigns/${small.body.id}/cancel`, { method: "POST", key: bot.apiKey });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: "campaign_not_cancellable" });
  });

  it("lists the bot's campaigns newest first with cursor paging, individual ones included", async () => {
    const bot = await setupBot();
    const other = await setupBot();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (
          await postJson(bot, {
            name: `c${i}`,
            template,
            audience: [{ to: "+5511999990001", params: ["a", "b"] }],
          })
        ).body.id,
      );
    }
    const msg = await gw("/v1/messages", {
      method: "POST",
      key: bot.apiKey,
      json: { to: "+5511999990001", template: { ...template, params: ["a", "b"] } },
    });
    ids.push(((await msg.json()) as any).campaignId);
    await postJson(other, {
      name: "theirs",
      template,
      audience: [{ to: "+5511999990001", params: ["a", "b"] }],
    });

    const first = (await (await gw("/v1/campaigns?limit=3", { key: bot.apiKey })).json()) as any;
    expect(first.items.map((c: any) => c.id)).toEqual([...ids].reverse().slice(0, 3));
    expect(first.items[0]).toMatchObject({ type: "individual" });
    expect(first.items[0]).not.toHaveProperty("timeline");
    expect(first.items[0]).not.toHaveProperty("errors");
    const second = (await (
      await gw(`/v1/campaigns?limit=3&cursor=${first.nextCursor}`, { key: bot.apiKey })
    ).json()) as any;
    expect(second.items.map((c: any) => c.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();

    const theirs = await gw(`/v1/campaigns/${ids[0]}`, { key: other.apiKey });
    expect(theirs.status).toBe(404);
    expect((await gw(`/v1/campaigns/${ids[0]}/cancel`, { method: "POST", key: other.apiKey })).status).toBe(
      404,
    );
  });
});
