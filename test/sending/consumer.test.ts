import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { MessageRow } from "../../src/db/schema";
import worker from "../../src/index";
import { wabaGate } from "../../src/routing/service";
import { batchShared, jobRetryDelaySeconds, runJob } from "../../src/sending/consumer";
import { sendAtSlots } from "../../src/sending/dispatch";
import { InFlight } from "../../src/sending/in-flight";
import type { QueueJob } from "../../src/sending/jobs";
import { OUTCOME_UNKNOWN_TITLE } from "../../src/sending/outcome";
import { loadJobContext, type Result, recordOutcomes } from "../../src/sending/store";
import { gw, setupBot, sim, type TestBot } from "../helpers";

afterEach(async () => {
  await sim("DELETE", "/_sim/faults");
});

let seq = 0;
/** A campaign of `count` messages written straight to D1, not enqueued: the test delivers the job itself. */
async function seedMessage(
  bot: TestBot,
  over: { intent?: boolean; route?: "mm_lite" | "cloud_api"; count?: number } = {},
) {
  seq += 1;
  const campaignId = `cmp_test${seq}`;
  const count = over.count ?? 1;
  const messageIds = Array.from({ length: count }, (_, k) =>
    k === 0 ? `msg_test${seq}` : `msg_test${seq}_${k}`,
  );
  const now = new Date().toISOString();
  const route = over.route ?? "cloud_api";
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO campaigns (id, bot_id, name, type, template_name, template_language, template_category, route, route_reason, status, total, count_queued, created_at)
       VALUES (?, ?, 'test', ?, 'fall_sale', 'pt_BR', 'MARKETING', ?, 'waba_not_onboarded', 'sending', ?, ?, ?)`,
    ).bind(campaignId, bot.id, count === 1 ? "individual" : "batch", route, count, count, now),
    ...messageIds.map((id, k) =>
      env.DB.prepare(
        `INSERT INTO messages (id, campaign_id, bot_id, seq, "to", params, route, route_reason, status, send_intent_at, attempts, created_at)
         VALUES (?, ?, ?, ?, ?, '["Ana","15/08"]', ?, 'waba_not_onboarded', 'queued', ?, ?, ?)`,
      ).bind(
        id,
        campaignId,
        bot.id,
        k,
        `+55119999${String(k + 1).padStart(5, "0")}`,
        route,
        over.intent ? now : null,
        over.intent ? 1 : 0,
        now,
      ),
    ),
  ]);
  const job: QueueJob = { v: 1, kind: "send", campaignId, botId: bot.id, messageIds };
  return { campaignId, messageId: messageIds[0] as string, messageIds, job };
}

async function deliver(jobs: unknown[], queue = "mmlite-send") {
  const batch = createMessageBatch<QueueJob>(
    queue,
    jobs.map((body, i) => ({
      id: `q${seq}-${i}`,
      timestamp: new Date(),
      attempts: 1,
      body: body as QueueJob,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function sendsAtMeta(bot: TestBot) {
  const list = await sim("GET", "/_sim/messages?limit=1000");
  return (list.messages as { phoneNumberId: string; wamid: string }[]).filter(
    (m) => m.phoneNumberId === bot.phoneNumberId,
  );
}

const message = (id: string) =>
  env.DB.prepare("SELECT * FROM messages WHERE id = ?").bind(id).first<Record<string, any>>();

describe("send queue consumer", () => {
  it("sends a job's message, acks it, and records the wamid", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { messageId, job, campaignId } = await seedMessage(bot);
    const result = await deliver([job]);
    expect(result.explicitAcks).toEqual([`q${seq}-0`]);
    expect(result.retryMessages).toEqual([]);
    const row = await message(messageId);
    expect(row).toMatchObject({ status: "accepted", attempts: 1 });
    expect((await sendsAtMeta(bot)).map((m) => m.wamid)).toEqual([row?.wamid]);
    const campaign = await env.DB.prepare("SELECT status, completed_at FROM campaigns WHERE id = ?")
      .bind(campaignId)
      .first();
    expect(campaign?.status).toBe("completed");
  });

  it("a redelivered job sends nothing twice, even when both copies run at once", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job } = await seedMessage(bot);
    await Promise.all([deliver([job]), deliver([job]), deliver([job, job])]);
    await deliver([job]);
    expect(await sendsAtMeta(bot)).toHaveLength(1);
  });

  it("reports a send whose answer never came as outcome unknown, and never re-sends it", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    await sim("PUT", "/_sim/faults", {
      rules: [
        {
          endpoint: "send_cloud",
          phoneNumberId: bot.phoneNumberId,
          timeoutMs: 3000,
          acceptBeforeDrop: true,
          drop: true,
        },
      ],
    });
    const { job, messageId } = await seedMessage(bot);
    const result = await deliver([job]);
    expect(result.explicitAcks).toHaveLength(1);
    const row = await message(messageId);
    expect(row).toMatchObject({ status: "failed", wamid: null, error_title: OUTCOME_UNKNOWN_TITLE });
    await sim("DELETE", "/_sim/faults");
    await deliver([job]);
    expect((await message(messageId))?.attempts).toBe(1);
  });

  it("never sends a message whose earlier attempt recorded an intent but no wamid (crash mid-send)", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageId } = await seedMessage(bot, { intent: true });
    await deliver([job]);
    expect(await message(messageId)).toMatchObject({ status: "failed", error_title: OUTCOME_UNKNOWN_TITLE });
    expect(await sendsAtMeta(bot)).toHaveLength(0);
  });

  it("throttling is retried as a new delayed job and slows the number down", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    await sim("PUT", "/_sim/faults", {
      rules: [
        { endpoint: "send_cloud", phoneNumberId: bot.phoneNumberId, code: 130429, httpStatus: 429, count: 1 },
      ],
    });
    const { job, messageId } = await seedMessage(bot);
    const result = await deliver([job]);
    expect(result.explicitAcks).toHaveLength(1);
    const row = await message(messageId);
    expect(row).toMatchObject({ status: "queued", send_intent_at: null, error_code: 130429, attempts: 1 });
    // The retry job went through the outbox to the queue (the outbox row is gone once enqueued).
    const outbox = await env.DB.prepare("SELECT COUNT(*) AS n FROM outbox").first("n");
    expect(outbox).toBe(0);
    // The retry job (and a stray redelivery of the original) send the message once, after the pause.
    await deliver([job]);
    const until = Date.now() + 10_000;
    while ((await message(messageId))?.status === "queued" && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    expect(await message(messageId)).toMatchObject({ status: "accepted", attempts: 2 });
    expect(await sendsAtMeta(bot)).toHaveLength(1);
  });

  it("stops retrying after the last attempt", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    await sim("PUT", "/_sim/faults", {
      rules: [{ endpoint: "send_cloud", phoneNumberId: bot.phoneNumberId, code: 131000, httpStatus: 500 }],
    });
    const { job, messageId } = await seedMessage(bot);
    await env.DB.prepare("UPDATE messages SET attempts = 5 WHERE id = ?").bind(messageId).run();
    await deliver([job]);
    const row = await message(messageId);
    expect(row).toMatchObject({ status: "failed", error_code: 131000, attempts: 6 });
    expect(row?.error_title).toContain("gave up after 6 attempts");
  });

  it("sends nothing for a cancelled campaign", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, campaignId } = await seedMessage(bot);
    await env.DB.prepare("UPDATE campaigns SET status = 'cancelled' WHERE id = ?").bind(campaignId).run();
    const result = await deliver([job]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await sendsAtMeta(bot)).toHaveLength(0);
  });

  it("acks an unreadable body, and retries a job that fails as a whole with backoff", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const unreadable = await deliver([{ v: 99 }]);
    expect(unreadable.explicitAcks).toHaveLength(1);
    // D1 failing under the job (the messages table is briefly away): the whole job is retried.
    const { job } = await seedMessage(bot);
    await env.DB.prepare("ALTER TABLE messages RENAME TO messages_away").run();
    try {
      const failed = await deliver([job]);
      expect(failed.retryMessages).toEqual([{ msgId: `q${seq}-0` }]);
      expect(failed.explicitAcks).toEqual([]);
    } finally {
      await env.DB.prepare("ALTER TABLE messages_away RENAME TO messages").run();
    }
    // Backoff grows with the delivery attempts and is capped.
    expect([1, 2, 3, 8, 20].map(jobRetryDelaySeconds)).toEqual([2, 4, 8, 256, 300]);
  });

  it("the dead-letter consumer marks what it receives as failed with a reason", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageId, campaignId } = await seedMessage(bot);
    const result = await deliver([job], "mmlite-send-dlq");
    expect(result.explicitAcks).toHaveLength(1);
    const row = await message(messageId);
    expect(row).toMatchObject({ status: "failed" });
    expect(row?.error_title).toContain("Dead-lettered");
    const campaign = await env.DB.prepare("SELECT status FROM campaigns WHERE id = ?")
      .bind(campaignId)
      .first("status");
    expect(campaign).toBe("completed");
    expect(await sendsAtMeta(bot)).toHaveLength(0);
  });
});

describe("sends in flight", () => {
  it("InFlight hands out at most `max` permits, first come first served, and gives up at the deadline", async () => {
    const limiter = new InFlight(2);
    // A slot already over gets nothing, even with permits free: a late timer must not send late.
    expect(await limiter.take(Date.now() - 1)).toBe(false);
    expect(limiter.inFlight).toBe(0);
    expect(await limiter.take(Date.now())).toBe(true);
    expect(await limiter.take(Date.now())).toBe(true);
    expect(await limiter.take(Date.now())).toBe(false); // none free, and no time left to wait
    const order: string[] = [];
    const first = limiter.take(Date.now() + 5_000).then((ok) => order.push(`first:${ok}`));
    const second = limiter.take(Date.now() + 5_000).then((ok) => order.push(`second:${ok}`));
    const late = limiter.take(Date.now() + 30).then((ok) => order.push(`late:${ok}`));
    await late;
    limiter.release();
    limiter.release();
    await Promise.all([first, second]);
    expect(order).toEqual(["late:false", "first:true", "second:true"]);
    expect(limiter.inFlight).toBe(2);
    limiter.release();
    limiter.release();
    expect(limiter.inFlight).toBe(0);
  });

  it("a send that gets no connection within its slot is not started late: rescheduled, not unknown, sent once later", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageId } = await seedMessage(bot);
    const busy = new InFlight(1);
    expect(await busy.take(Date.now())).toBe(true); // every connection of this invocation is busy
    await runJob(env, job, { ...batchShared(env), limiter: busy });
    // Never sent by this job: the claim is undone, the attempt not counted, no error recorded.
    expect(await message(messageId)).toMatchObject({
      status: "queued",
      send_intent_at: null,
      attempts: 0,
      error_title: null,
    });
    // The job that took it over (through the outbox and the real queue) sends it exactly once.
    let row = await message(messageId);
    for (let i = 0; i < 100 && row?.status === "queued"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      row = await message(messageId);
    }
    expect(row).toMatchObject({ status: "accepted", attempts: 1 });
    expect(await sendsAtMeta(bot)).toHaveLength(1);
  });
});

describe("a job waiting for far slots", () => {
  it("records what it already sent before the wait, and the rest when it ends, each once", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageIds } = await seedMessage(bot, { count: 2 });
    const ctx = await loadJobContext(env, job);
    if (!ctx) throw new Error("no job context");
    // A scripted WABA gate: one slot now, then (the job is out of slots) the next one 1.5 s out,
    // as when the number's schedule is booked far ahead.
    const farAt = { value: 0 };
    const gate = {
      acquireOrPark: async () => ({ startAt: Date.now(), intervalMs: 100, count: 1 }),
      acquireWithin: async () => {
        farAt.value = Date.now() + 1_500;
        return { startAt: farAt.value, intervalMs: 100, count: 1 };
      },
    };
    const recorded: { ids: string[]; at: number }[] = [];
    const record = async (results: Result[]) => {
      recorded.push({ ids: results.map((r) => r.message.id), at: Date.now() });
      await recordOutcomes(env, ctx, results);
    };
    const rest = await sendAtSlots(env, ctx, gate as never, new InFlight(6), { record });
    // The first send was recorded (wamid in D1) before the far slot came, not when the job ended.
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.ids).toEqual([messageIds[0]]);
    expect(recorded[0]?.at).toBeLessThan(farAt.value);
    // The second is returned for the job's final write, and nothing twice.
    expect(rest.map((r) => r.message.id)).toEqual([messageIds[1]]);
    expect(rest[0]?.outcome.kind).toBe("accepted");
    await recordOutcomes(env, ctx, rest);
    for (const id of messageIds) expect(await message(id)).toMatchObject({ status: "accepted", attempts: 1 });
    expect(await sendsAtMeta(bot)).toHaveLength(2);
  });

  it("a failed early write loses nothing: those results come back with the rest", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageIds } = await seedMessage(bot, { count: 2 });
    const ctx = await loadJobContext(env, job);
    if (!ctx) throw new Error("no job context");
    const gate = {
      acquireOrPark: async () => ({ startAt: Date.now(), intervalMs: 100, count: 1 }),
      acquireWithin: async () => ({ startAt: Date.now() + 1_200, intervalMs: 100, count: 1 }),
    };
    let tries = 0;
    const record = async () => {
      tries += 1;
      throw new Error("D1 unavailable");
    };
    const rest = await sendAtSlots(env, ctx, gate as never, new InFlight(6), { record });
    expect(tries).toBe(1); // the early write was attempted, and failed
    expect(rest.map((r) => r.message.id).sort()).toEqual([...messageIds].sort());
    expect(rest.every((r) => r.outcome.kind === "accepted")).toBe(true);
  });
});

describe("batch hand-off", () => {
  it("acks a job and returns once all its messages are claimed; its last sends leave after, each once", async () => {
    // 5/s: one message per block, so the last claim comes one slot (≈ 200 ms) after the first.
    const bot = await setupBot({ onboarding: "ELIGIBLE", throughputMps: 5 });
    const { job, messageIds } = await seedMessage(bot, { count: 4 });
    const batch = createMessageBatch<QueueJob>("mmlite-send", [
      { id: "handoff-0", timestamp: new Date(), attempts: 1, body: job },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const returnedAt = Date.now();
    const result = await getQueueResult(batch, ctx); // waits for the waitUntil'ed rest
    expect(result.explicitAcks).toEqual(["handoff-0"]);
    expect(result.retryMessages).toEqual([]);
    for (const id of messageIds) expect(await message(id)).toMatchObject({ status: "accepted", attempts: 1 });
    const sends = await sendsAtMeta(bot);
    expect(sends).toHaveLength(4);
    // The invocation had returned before Meta got the last send: the rest ran under waitUntil.
    const lastAt = Math.max(...sends.map((m) => Date.parse((m as unknown as { at: string }).at)));
    expect(lastAt).toBeGreaterThan(returnedAt);
  });
});

describe("opt-outs during a job", () => {
  it("a number that opts out after the job loaded its messages, before its block leaves, is not sent (131050)", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageIds } = await seedMessage(bot, { count: 2 });
    const ctx = await loadJobContext(env, job);
    if (!ctx) throw new Error("no job context");
    const [first, second] = ctx.sendable as [MessageRow, MessageRow];
    // The opt-out arrives (through the webhooks consumer) while the job waits for its slots.
    const now = new Date().toISOString();
    await env.DB.prepare(
      "INSERT INTO marketing_opt_outs (waba_id, wa_id, opted_out, at, updated_at) VALUES (?, ?, 1, ?, ?)",
    )
      .bind(bot.wabaId, second.to.replace(/^\+/, ""), now, now)
      .run();
    const results = await sendAtSlots(env, ctx, wabaGate(env, bot.wabaId), new InFlight(6), {
      record: async () => {},
    });
    await recordOutcomes(env, ctx, results);
    expect(results.map((r) => r.message.id)).toEqual([first.id]);
    expect(await message(messageIds[0] as string)).toMatchObject({ status: "accepted" });
    expect(await message(messageIds[1] as string)).toMatchObject({
      status: "failed",
      error_code: 131050,
      send_intent_at: null,
      attempts: 0,
    });
    expect((await sendsAtMeta(bot)).length).toBe(1);
    const campaign = await env.DB.prepare("SELECT status, count_queued FROM campaigns WHERE id = ?")
      .bind(job.campaignId)
      .first();
    expect(campaign).toMatchObject({ status: "completed", count_queued: 0 });
  });
});

describe("cancel while a job runs", () => {
  it("what the job did not send (rescheduled or refused) ends cancelled, and the counters add up", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const a = await seedMessage(bot);
    const b = await seedMessage(bot);
    for (const m of [a, b]) {
      const ctx = await loadJobContext(env, m.job);
      const row = ctx?.sendable[0];
      expect(row).toBeDefined();
      // The campaign is cancelled between the claim and the job's end.
      await env.DB.prepare("UPDATE messages SET send_intent_at = ?, attempts = 1 WHERE id = ?")
        .bind(new Date().toISOString(), m.messageId)
        .run();
      const cancel = await gw(`/v1/campaigns/${m.campaignId}/cancel`, { method: "POST", key: bot.apiKey });
      expect(cancel.status).toBe(200);
      const outcome =
        m === a
          ? ({ kind: "rescheduled", claimed: true } as const)
          : ({
              kind: "retry",
              code: 2,
              title: "Service temporarily unavailable",
              delayMs: 1000,
              throttled: false,
            } as const);
      await recordOutcomes(env, ctx as NonNullable<typeof ctx>, [
        { message: row as NonNullable<typeof row>, outcome, attempts: 1 },
      ]);
      expect(await message(m.messageId)).toMatchObject({ status: "cancelled", wamid: null });
      const detail = (await (await gw(`/v1/campaigns/${m.campaignId}`, { key: bot.apiKey })).json()) as {
        status: string;
        counts: Record<string, number>;
      };
      expect(detail.status).toBe("cancelled");
      expect(detail.counts).toMatchObject({ queued: 0, cancelled: 1, accepted: 0 });
    }
    expect(await sendsAtMeta(bot)).toHaveLength(0);
  });
});

describe("GET reflects the consumer", () => {
  it("shows the final state through the API", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { job, messageId } = await seedMessage(bot);
    await deliver([job]);
    const res = await gw(`/v1/messages/${messageId}`, { key: bot.apiKey });
    expect(await res.json()).toMatchObject({ id: messageId, status: "accepted", route: "cloud_api" });
  });
});
