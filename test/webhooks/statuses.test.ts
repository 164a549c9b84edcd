// Status webhooks end to end: signed bodies posted to POST /webhooks/meta, applied by the real queue
// consumer running in the test runtime, read back through the API and D1.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadJobContext, recordOutcomes } from "../../src/sending/store";
import {
  applyStatuses,
  type StatusEvent,
  type TrackedState,
  type WebhookStatus,
} from "../../src/webhooks/status-machine";
import { gw, setupBot, sim, type TestBot } from "../helpers";
import {
  acceptedSend,
  campaign,
  consume,
  emitted,
  inline,
  iso,
  message,
  postAll,
  postSigned,
  row,
  rows,
  statusNotification,
  until,
} from "./helpers";

// Polls wait for the queue consumer; a loaded machine needs more than the default 20 s.
vi.setConfig({ testTimeout: 90_000 });

afterEach(async () => {
  await sim("PUT", "/_sim/faults", { rules: [], sendLatencyMs: 0 });
});

/** A campaign of `n` recipients, sent and accepted by the simulator: its id and its messages. */
async function acceptedCampaign(bot: TestBot, n: number, offset = 0) {
  const audience = Array.from({ length: n }, (_, i) => ({
    to: `+55119${String(80_000_000 + offset + i)}`,
    params: ["Ana", "15/08"],
  }));
  const res = await gw("/v1/campaigns", {
    method: "POST",
    key: bot.apiKey,
    json: { name: "bf", template: { name: "fall_sale", language: "pt_BR" }, audience },
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const done = await until(
    () => campaign(bot, id),
    (c) => c.status === "completed",
    40_000,
  );
  expect(done.counts.accepted).toBe(n);
  const messages = await rows(`SELECT id, wamid, "to" FROM messages WHERE campaign_id = ? ORDER BY seq`, id);
  return { id, messages: messages as { id: string; wamid: string; to: string }[] };
}

const T = 1_780_000_020; // on a minute boundary: each stage below falls in its own minute
const STAGE_TIME: Record<WebhookStatus, number> = {
  sent: T,
  delivered: T + 60,
  read: T + 120,
  failed: T + 180,
};
const PRICING: Partial<Record<WebhookStatus, string>> = { sent: "marketing", delivered: "marketing_lite" };

function webhookStatus(wamid: string, status: WebhookStatus) {
  return {
    id: wamid,
    status,
    timestamp: STAGE_TIME[status],
    ...(PRICING[status] ? { pricing: { category: PRICING[status] } } : {}),
    ...(status === "failed"
      ? { errors: [{ code: 131049, title: "Not delivered to maintain ecosystem health" }] }
      : {}),
  };
}

function machineEvent(wamid: string, status: WebhookStatus): StatusEvent {
  const p = PRICING[status];
  return {
    wamid,
    status,
    at: iso(STAGE_TIME[status]),
    error: status === "failed" ? { code: 131049, title: "Not delivered to maintain ecosystem health" } : null,
    route: p === undefined ? null : p === "marketing_lite" ? "mm_lite" : "cloud_api",
  };
}

const START: TrackedState = {
  status: "accepted",
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  failedAt: null,
  errorCode: null,
  errorTitle: null,
  confirmedRoute: null,
  routeAt: null,
};

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

const tracked = (wamids: string[]) =>
  rows(
    `SELECT wamid, status, sent_at, delivered_at, read_at, failed_at, error_code, confirmed_route FROM messages
     WHERE wamid IN (SELECT value FROM json_each(?))`,
    JSON.stringify(wamids),
  );

function asRow(wamid: string, s: TrackedState) {
  return {
    wamid,
    status: s.status,
    sent_at: s.sentAt,
    delivered_at: s.deliveredAt,
    read_at: s.readAt,
    failed_at: s.failedAt,
    error_code: s.errorCode,
    confirmed_route: s.confirmedRoute,
  };
}

describe("status webhooks through the endpoint and the consumer", () => {
  it("every permutation of sent/delivered/read/failed ends in the state and times of the sorted order", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const full = permutations<WebhookStatus>(["sent", "delivered", "read", "failed"]); // 24
    const noFail = permutations<WebhookStatus>(["sent", "delivered", "read"]); // 6
    const orders = [...full, ...noFail];
    const { id, messages } = await acceptedCampaign(bot, orders.length);
    const wamids = messages.map((m) => m.wamid);

    // Step i posts every message's i-th status (one POST, many statuses), then waits until the
    // consumer has applied it, so arrival order is exactly each permutation. After each step the
    // rows must equal what the pure machine says for that prefix.
    for (let step = 0; step < 4; step++) {
      const statuses = orders.flatMap((order, k) =>
        step < order.length ? [webhookStatus(wamids[k] as string, order[step] as WebhookStatus)] : [],
      );
      expect((await postSigned(statusNotification(bot.wabaId, statuses))).status).toBe(200);
      const expected = orders.map((order, k) => {
        const wamid = wamids[k] as string;
        return asRow(
          wamid,
          applyStatuses(
            START,
            order.slice(0, step + 1).map((s) => machineEvent(wamid, s)),
          ),
        );
      });
      const got = await until(
        () => tracked(wamids),
        (r) => expect.arrayContaining(expected).asymmetricMatch(r),
      );
      expect(got).toEqual(expect.arrayContaining(expected));
    }

    const sortedFull = asRow(
      "x",
      applyStatuses(
        START,
        full[0]!.map((s) => machineEvent("x", s)),
      ),
    );
    expect(sortedFull).toMatchObject({
      status: "failed",
      sent_at: iso(T),
      delivered_at: iso(T + 60),
      read_at: iso(T + 120),
      failed_at: iso(T + 180),
      error_code: 131049,
      confirmed_route: "mm_lite",
    });
    const final = await tracked(wamids);
    for (const [k, order] of orders.entries()) {
      const r = final.find((x) => x.wamid === wamids[k]);
      expect(r).toMatchObject(
        order.length === 4
          ? { ...sortedFull, wamid: wamids[k] }
          : {
              status: "read",
              failed_at: null,
              error_code: null,
              read_at: iso(T + 120),
              delivered_at: iso(T + 60),
            },
      );
    }

    // The API view and the campaign's performance, kept by the triggers.
    const m = await message(bot, messages[0]!.id);
    expect(m).toMatchObject({
      status: "failed",
      confirmedRoute: "mm_lite",
      error: { code: 131049, title: "Not delivered to maintain ecosystem health" },
      sentAt: iso(T),
      deliveredAt: iso(T + 60),
      readAt: iso(T + 120),
      failedAt: iso(T + 180),
    });
    const c = await campaign(bot, id);
    expect(c.counts).toMatchObject({ accepted: 0, sent: 0, delivered: 0, read: 6, failed: 24 });
    expect(c.funnel).toEqual({ accepted: 30, sent: 30, delivered: 30, read: 30 });
    expect(c.confirmedRoutes).toEqual({ mm_lite: 30, cloud_api: 0 });
    expect(c.errors).toEqual([
      { code: 131049, title: "Not delivered to maintain ecosystem health", count: 24 },
    ]);
    // Filled times moved back to their real minute: each stage sits in its own bucket only.
    const minute = (s: number) => `${iso(s).slice(0, 16)}:00Z`;
    const buckets = (c.timeline as { at: string }[]).filter((b) => b.at <= minute(T + 180));
    expect(buckets).toEqual([
      { at: minute(T), accepted: 0, sent: 30, delivered: 0, read: 0, failed: 0 },
      { at: minute(T + 60), accepted: 0, sent: 0, delivered: 30, read: 0, failed: 0 },
      { at: minute(T + 120), accepted: 0, sent: 0, delivered: 0, read: 30, failed: 0 },
      { at: minute(T + 180), accepted: 0, sent: 0, delivered: 0, read: 0, failed: 24 },
    ]);
  });

  it("a read before its delivered sets delivered and sent; the delivered then moves them back", async () => {
    const bot = await setupBot();
    const { id, wamid } = await acceptedSend(bot);
    await postSigned(statusNotification(bot.wabaId, [{ id: wamid, status: "read", timestamp: T + 120 }]));
    const afterRead = await until(
      () => message(bot, id),
      (m) => m.status === "read",
    );
    expect(afterRead).toMatchObject({
      sentAt: iso(T + 120),
      deliveredAt: iso(T + 120),
      readAt: iso(T + 120),
    });
    await postSigned(
      statusNotification(bot.wabaId, [
        { id: wamid, status: "delivered", timestamp: T + 60, pricing: { category: "marketing_lite" } },
      ]),
    );
    const after = await until(
      () => message(bot, id),
      (m) => m.deliveredAt === iso(T + 60),
    );
    expect(after).toMatchObject({
      status: "read",
      sentAt: iso(T + 60),
      deliveredAt: iso(T + 60),
      readAt: iso(T + 120),
      confirmedRoute: "mm_lite",
    });
  });

  it("applies many entries × changes × statuses of one POST, and duplicates change nothing", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const { id, messages } = await acceptedCampaign(bot, 24, 100);
    const statuses = messages.flatMap((m) => [
      webhookStatus(m.wamid, "sent"),
      webhookStatus(m.wamid, "delivered"),
      { id: m.wamid, status: "played", timestamp: T + 500 },
      { id: m.wamid, status: "deleted", timestamp: T + 500 },
    ]);
    // 3 entries × 2 changes, statuses spread over them.
    const entries = [0, 1, 2].map((e) => ({
      id: bot.wabaId,
      changes: [0, 1].map((ch) => ({
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "15550783881", phone_number_id: bot.phoneNumberId },
          statuses: statusNotification(
            bot.wabaId,
            statuses.filter((_, i) => i % 6 === e * 2 + ch),
          ).entry[0]!.changes[0]!.value.statuses,
        },
      })),
    }));
    const body = { object: "whatsapp_business_account", entry: entries };
    for (let i = 0; i < 3; i++) expect((await postSigned(body)).status).toBe(200);
    const c = await until(
      () => campaign(bot, id),
      (x) => x.counts.delivered === 24,
    );
    expect(c.counts).toMatchObject({ accepted: 0, sent: 0, delivered: 24, read: 0, failed: 0 });
    expect(c.funnel).toEqual({ accepted: 24, sent: 24, delivered: 24, read: 0 });
    expect(c.confirmedRoutes).toEqual({ mm_lite: 24, cloud_api: 0 });
    // Once more, later: still the same numbers.
    expect((await postSigned(body)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await campaign(bot, id)).funnel).toEqual(c.funnel);
  });

  it("a staged (large) notification is applied like any other and leaves nothing in the inbox", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const { id, messages } = await acceptedCampaign(bot, 10, 200);
    const padding = Array.from({ length: 1000 }, (_, i) => ({
      id: `wamid.unknown-${i}`,
      status: "played",
      timestamp: T,
    }));
    const body = statusNotification(bot.wabaId, [
      ...padding,
      ...messages.map((m) => webhookStatus(m.wamid, "read")),
    ]);
    expect(JSON.stringify(body).length).toBeGreaterThan(60_000);
    expect((await postSigned(body)).status).toBe(200);
    const c = await until(
      () => campaign(bot, id),
      (x) => x.counts.read === 10,
    );
    expect(c.funnel).toEqual({ accepted: 10, sent: 10, delivered: 10, read: 10 });
    expect(
      await until(
        () => row("SELECT COUNT(*) AS n FROM webhook_inbox"),
        (r) => r?.n === 0,
      ),
    ).toEqual({ n: 0 });
  });

  it("confirmed route: the latest pricing wins, whatever the arrival order", async () => {
    const bot = await setupBot();
    const a = await acceptedSend(bot, { to: "+5511988880001" });
    const b = await acceptedSend(bot, { to: "+5511988880002" });
    // a: the later status (delivered, marketing_lite) arrives first; b: the later one arrives last.
    for (const [wamid, order] of [
      [a.wamid, ["delivered", "sent"]],
      [b.wamid, ["sent", "delivered"]],
    ] as const) {
      for (const s of order) {
        await postSigned(
          statusNotification(bot.wabaId, [
            {
              id: wamid,
              status: s,
              timestamp: s === "sent" ? T : T + 60,
              pricing: { category: s === "sent" ? "marketing" : "marketing_lite" },
            },
          ]),
        );
        await new Promise((r) => setTimeout(r, 1300)); // separate consumer batches
      }
    }
    for (const { id } of [a, b]) {
      const m = await until(
        () => message(bot, id),
        (x) => x.status === "delivered",
      );
      expect(m.confirmedRoute).toBe("mm_lite");
    }
    // A tie in time goes to the later arrival.
    await postSigned(
      statusNotification(bot.wabaId, [
        { id: a.wamid, status: "delivered", timestamp: T + 60, pricing: { category: "utility" } },
      ]),
    );
    expect(
      (
        await until(
          () => message(bot, a.id),
          (x) => x.confirmedRoute === "cloud_api",
        )
      ).confirmedRoute,
    ).toBe("cloud_api");
    const c = await campaign(bot, a.campaignId);
    expect(c.confirmedRoutes).toEqual({ mm_lite: 0, cloud_api: 1 });
  });

  it("a status that arrives before the send recorded its wamid waits, and is applied when the send records it", async () => {
    const bot = await setupBot();
    // A queued message about to be sent (written as intake would), and its job's context.
    const campaignId = "cmp_pending1";
    const messageId = "msg_pending1";
    const now = new Date().toISOString();
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO campaigns (id, bot_id, name, type, template_name, template_language, template_category, route, route_reason, status, total, count_queued, created_at)
         VALUES (?, ?, 'p', 'individual', 'fall_sale', 'pt_BR', 'MARKETING', 'mm_lite', 'mm_lite_active', 'sending', 1, 1, ?)`,
      ).bind(campaignId, bot.id, now),
      env.DB.prepare(
        `INSERT INTO messages (id, campaign_id, bot_id, seq, "to", params, route, route_reason, status, attempts, created_at)
         VALUES (?, ?, ?, 0, '+5511977770002', '["Ana","15/08"]', 'mm_lite', 'mm_lite_active', 'queued', 0, ?)`,
      ).bind(messageId, campaignId, bot.id, now),
    ]);
    const ctx = await loadJobContext(env, {
      v: 1,
      kind: "send",
      campaignId,
      botId: bot.id,
      messageIds: [messageId],
    });
    expect(ctx?.sendable).toHaveLength(1);

    // Meta's webhooks for the wamid it is about to answer with arrive first.
    const wamid = "wamid.before-its-send";
    await postSigned(
      statusNotification(bot.wabaId, [
        { id: wamid, status: "read", timestamp: T + 120 },
        { id: wamid, status: "sent", timestamp: T, pricing: { category: "marketing_lite" } },
      ]),
    );
    await until(
      () => row("SELECT COUNT(*) AS n FROM pending_statuses WHERE wamid = ?", wamid),
      (r) => r?.n === 2,
    );
    expect(await message(bot, messageId)).toMatchObject({ status: "queued", wamid: null });

    // The send records the wamid: the pending statuses are applied right after, and forgotten.
    const [message0] = ctx?.sendable ?? [];
    await recordOutcomes(env, ctx as NonNullable<typeof ctx>, [
      {
        message: message0 as NonNullable<typeof message0>,
        outcome: {
          kind: "accepted",
          wamid,
          route: "mm_lite",
          reason: null,
          acceptedAt: new Date().toISOString(),
        },
        attempts: 1,
      },
    ]);
    expect(await message(bot, messageId)).toMatchObject({
      wamid,
      status: "read",
      sentAt: iso(T),
      deliveredAt: iso(T + 120),
      readAt: iso(T + 120),
      confirmedRoute: "mm_lite",
    });
    expect(await row("SELECT COUNT(*) AS n FROM pending_statuses WHERE wamid = ?", wamid)).toEqual({ n: 0 });
    expect((await campaign(bot, campaignId)).funnel).toEqual({ accepted: 1, sent: 1, delivered: 1, read: 1 });
  });

  it("end to end: statuses posted while Meta is still answering the send end up applied", async () => {
    const bot = await setupBot();
    // Meta accepts the message at once but answers slowly: its webhooks may beat the gateway's record.
    await sim("PUT", "/_sim/faults", { rules: [], sendLatencyMs: 1200 });
    const res = await gw("/v1/messages", {
      method: "POST",
      key: bot.apiKey,
      json: {
        to: "+5511977770001",
        template: { name: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] },
      },
    });
    const { id } = (await res.json()) as { id: string };
    const atMeta = await until(
      () => sim("GET", `/_sim/messages?phoneNumberId=${bot.phoneNumberId}`),
      (r) => r.messages.length === 1,
    );
    const wamid = atMeta.messages[0].wamid as string;
    const hooks = await emitted({ wamids: [wamid], statuses: ["sent", "delivered", "read"], timestamp: T });
    // Straight into the consumer (no queue wait), and through the endpoint as Meta would.
    const result = await consume(hooks.map((h) => inline(h.body)));
    expect(result.explicitAcks).toHaveLength(hooks.length);
    await postAll(hooks);

    const m = await until(
      () => message(bot, id),
      (x) => x.status === "read",
    );
    expect(m).toMatchObject({
      wamid,
      status: "read",
      sentAt: iso(T),
      deliveredAt: iso(T),
      readAt: iso(T),
      confirmedRoute: "mm_lite",
    });
    expect(
      await until(
        () => row("SELECT COUNT(*) AS n FROM pending_statuses WHERE wamid = ?", wamid),
        (r) => r?.n === 0,
      ),
    ).toEqual({ n: 0 });
    const c = await campaign(bot, m.campaignId);
    expect(c.funnel).toEqual({ accepted: 1, sent: 1, delivered: 1, read: 1 });
  });

  it("the cron applies pending statuses whose wamid is known by now, and forgets them after 24 h", async () => {
    const { sweepWebhooks } = await import("../../src/webhooks/sweep");
    const bot = await setupBot();
    const { id, wamid } = await acceptedSend(bot, { to: "+5511966660001" });
    const event: StatusEvent = { wamid, status: "delivered", at: iso(T), error: null, route: "mm_lite" };
    const old = new Date(Date.now() - 25 * 3600_000).toISOString();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO pending_statuses (wamid, payload, received_at) VALUES (?, ?, ?)").bind(
        wamid,
        JSON.stringify(event),
        new Date().toISOString(),
      ),
      env.DB.prepare("INSERT INTO pending_statuses (wamid, payload, received_at) VALUES (?, ?, ?)").bind(
        "wamid.never",
        JSON.stringify({ ...event, wamid: "wamid.never" }),
        old,
      ),
    ]);
    await sweepWebhooks(env);
    expect(await message(bot, id)).toMatchObject({
      status: "delivered",
      deliveredAt: iso(T),
      confirmedRoute: "mm_lite",
    });
    expect(await row("SELECT COUNT(*) AS n FROM pending_statuses")).toEqual({ n: 0 });
  });
});

describe("campaign performance from webhooks", () => {
  it("counts, funnel, rates, confirmed routes and errors match exactly after duplicated, shuffled statuses", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const { id, messages } = await acceptedCampaign(bot, 45, 300);
    const w = messages.map((m) => m.wamid);
    const groups = {
      A: w.slice(0, 10), // sent, delivered, read
      B: w.slice(10, 15), // read only (out of order, no delivered)
      C: w.slice(15, 30), // sent, delivered
      D: w.slice(30, 35), // sent
      E: w.slice(35, 40), // failed 131049
      F: w.slice(40, 42), // sent, then failed 131049
      G: w.slice(42, 45), // nothing
    };
    const fail = { code: 131049, title: "Not delivered to maintain healthy ecosystem engagement" };
    const opts = { duplicate: true, shuffle: true, seed: 7 };
    const hooks = [
      ...(await emitted({
        wamids: groups.A,
        statuses: ["read", "sent", "delivered"],
        batch: 4,
        timestamp: T,
        ...opts,
      })),
      ...(await emitted({ wamids: groups.B, statuses: ["read"], batch: 2, timestamp: T + 60, ...opts })),
      ...(await emitted({
        wamids: groups.C,
        statuses: ["delivered", "sent"],
        batch: 7,
        timestamp: T,
        ...opts,
      })),
      ...(await emitted({ wamids: groups.D, statuses: ["sent"], batch: 1, timestamp: T, ...opts })),
      ...(await emitted({ wamids: groups.E, fail, batch: 3, timestamp: T + 60, ...opts })),
      ...(await emitted({
        wamids: groups.F,
        statuses: ["failed", "sent"],
        fail,
        batch: 1,
        timestamp: T,
        ...opts,
      })),
    ];
    // Interleave the groups too.
    hooks.sort((x, y) => (x.signature < y.signature ? -1 : 1));
    await postAll(hooks);

    const c = await until(
      () => campaign(bot, id),
      (x) => x.counts.accepted === 3 && x.counts.sent === 5 && x.counts.failed === 7 && x.funnel.read === 15,
      30_000,
    );
    expect(c.total).toBe(45);
    expect(c.counts).toEqual({
      queued: 0,
      accepted: 3,
      sent: 5,
      delivered: 15,
      read: 15,
      failed: 7,
      cancelled: 0,
      invalid: 0,
    });
    expect(c.funnel).toEqual({ accepted: 45, sent: 37, delivered: 30, read: 15 });
    expect(c.rates).toEqual({ delivery: 30 / 45, read: 15 / 30, failure: 7 / 45 });
    // Pricing rides on sent / delivered only: B (read only) stays unconfirmed.
    expect(c.confirmedRoutes).toEqual({ mm_lite: 32, cloud_api: 0 });
    expect(c.errors).toEqual([{ code: 131049, title: fail.title, count: 7 }]);
    const sum = (k: string) => (c.timeline as Record<string, number>[]).reduce((n, b) => n + (b[k] ?? 0), 0);
    expect([sum("accepted"), sum("sent"), sum("delivered"), sum("read"), sum("failed")]).toEqual([
      45, 37, 30, 15, 7,
    ]);
  });
});
