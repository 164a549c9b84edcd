// The webhooks queue consumer, called directly with built batches: one D1 batch per queue batch,
// per-message ack / retry, staged bodies, the dead-letter queue.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { webhookRetryDelaySeconds } from "../../src/webhooks/consumer";
import type { WebhookQueueBody } from "../../src/webhooks/inbox";
import { setupBot } from "../helpers";
import { acceptedSend, consume, inline, iso, message, row, rows, statusNotification } from "./helpers";

// Polls wait for the queue consumer; a loaded machine needs more than the default 20 s.
vi.setConfig({ testTimeout: 90_000 });

const T = 1_780_000_020;

let seq = 0;
async function consumeWith(bodies: unknown[], over: Partial<Env>, queue = "mmlite-webhooks") {
  seq += 1;
  const batch = createMessageBatch<WebhookQueueBody>(
    queue,
    bodies.map((body, i) => ({
      id: `c${seq}-${i}`,
      timestamp: new Date(),
      attempts: 3,
      body: body as WebhookQueueBody,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as never, { ...env, ...over } as never, ctx);
  return getQueueResult(batch, ctx);
}

/** D1 that counts what the consumer asks of it. */
function countingDb(failBatches = 0) {
  const counts = { prepare: 0, batch: 0, failed: 0 };
  const db = {
    prepare: (sql: string) => {
      counts.prepare += 1;
      return env.DB.prepare(sql);
    },
    batch: async (statements: D1PreparedStatement[]) => {
      counts.batch += 1;
      if (counts.failed < failBatches) {
        counts.failed += 1;
        throw new Error("D1_ERROR: simulated");
      }
      return env.DB.batch(statements);
    },
  };
  return { db: db as unknown as D1Database, counts };
}

describe("webhooks consumer", () => {
  it("applies every status of every message of a batch with one D1 batch of a few multi-row statements", async () => {
    const bot = await setupBot();
    const sends: Awaited<ReturnType<typeof acceptedSend>>[] = [];
    for (let i = 0; i < 4; i++) sends.push(await acceptedSend(bot, { to: `+551194444000${i}` }));
    // 40 queue messages, 160 statuses (each message's four statuses, many times over).
    const bodies = Array.from({ length: 40 }, (_, i) =>
      inline(
        statusNotification(
          bot.wabaId,
          sends.map((s, k) => ({
            id: s.wamid,
            status: ["sent", "delivered", "read", "played"][(i + k) % 4] as string,
            timestamp: T + ((i + k) % 4) * 60,
            pricing: { category: "marketing_lite" },
          })),
        ),
      ),
    );
    const { db, counts } = countingDb();
    const result = await consumeWith(bodies, { DB: db });
    expect(result.explicitAcks).toHaveLength(40);
    expect(result.retryMessages).toEqual([]);
    expect(counts.batch).toBe(1);
    expect(counts.prepare).toBeLessThanOrEqual(4); // merge, pricing, confirmed route, pending
    for (const s of sends) {
      expect(await message(bot, s.id)).toMatchObject({
        status: "read",
        sentAt: iso(T),
        deliveredAt: iso(T + 60),
        readAt: iso(T + 120),
        confirmedRoute: "mm_lite",
      });
    }
  });

  it("when the combined write fails, applies messages one by one and acks them", async () => {
    const bot = await setupBot();
    const s = await acceptedSend(bot);
    const bodies = ["sent", "delivered"].map((status, i) =>
      inline(statusNotification(bot.wabaId, [{ id: s.wamid, status, timestamp: T + i }])),
    );
    const { db, counts } = countingDb(1);
    const result = await consumeWith(bodies, { DB: db });
    expect(result.explicitAcks).toHaveLength(2);
    expect(counts.batch).toBe(3);
    expect((await message(bot, s.id)).status).toBe("delivered");
  });

  it("retries with backoff the messages that still fail; acks the others", async () => {
    const bot = await setupBot();
    const good = inline(
      statusNotification(bot.wabaId, [{ id: "wamid.whatever", status: "sent", timestamp: T }]),
    );
    const template = inline({
      object: "whatsapp_business_account",
      entry: [
        {
          id: bot.wabaId,
          changes: [
            {
              field: "template_category_update",
              value: {
                message_template_name: "boom",
                message_template_language: "pt_BR",
                new_category: "UTILITY",
              },
            },
          ],
        },
      ],
    });
    const cache = {
      get: async (key: string) => {
        if (key.includes(":boom:")) throw new Error("KV unavailable");
        return null;
      },
      put: async () => {},
      delete: async () => {},
    };
    const result = await consumeWith([good, template], { CACHE: cache as unknown as KVNamespace });
    expect(result.explicitAcks).toEqual([`c${seq}-0`]);
    expect(result.retryMessages).toEqual([{ msgId: `c${seq}-1` }]);
    expect(webhookRetryDelaySeconds(1)).toBe(2);
    expect(webhookRetryDelaySeconds(20)).toBe(300);
  });

  it("acks what can never be read: foreign queue bodies, non-JSON, staged rows already applied", async () => {
    const result = await consume([
      { hello: "world" },
      null,
      "text",
      inline("{not json"),
      { v: 1, kind: "staged", inboxId: "whk_gone", receivedAt: new Date().toISOString() },
      { v: 2, kind: "notification", body: "{}", receivedAt: "x" },
    ]);
    expect(result.explicitAcks).toHaveLength(6);
    expect(result.retryMessages).toEqual([]);
  });

  it("reads staged bodies from the inbox and deletes them once applied", async () => {
    const bot = await setupBot();
    const s = await acceptedSend(bot);
    const receivedAt = new Date().toISOString();
    await env.DB.prepare("INSERT INTO webhook_inbox (id, body, received_at) VALUES ('whk_t1', ?, ?)")
      .bind(
        JSON.stringify(statusNotification(bot.wabaId, [{ id: s.wamid, status: "read", timestamp: T }])),
        receivedAt,
      )
      .run();
    const result = await consume([{ v: 1, kind: "staged", inboxId: "whk_t1", receivedAt }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await message(bot, s.id)).status).toBe("read");
    expect(await row("SELECT COUNT(*) AS n FROM webhook_inbox WHERE id = 'whk_t1'")).toEqual({ n: 0 });
  });

  it("statuses without a usable timestamp take the time the notification was received", async () => {
    const bot = await setupBot();
    const s = await acceptedSend(bot);
    const receivedAt = "2026-11-29T12:00:00.000Z";
    await consume([
      inline(
        statusNotification(bot.wabaId, [{ id: s.wamid, status: "delivered", timestamp: "soon" }]),
        receivedAt,
      ),
    ]);
    expect(await message(bot, s.id)).toMatchObject({ deliveredAt: receivedAt, sentAt: receivedAt });
  });

  it("the dead-letter queue records what it gets (staged bodies move out of the inbox)", async () => {
    const receivedAt = new Date().toISOString();
    await env.DB.prepare(
      "INSERT INTO webhook_inbox (id, body, received_at) VALUES ('whk_dead', '{\"big\":1}', ?)",
    )
      .bind(receivedAt)
      .run();
    const result = await consume(
      [
        inline('{"object":"whatsapp_business_account","entry":[]}', receivedAt),
        { v: 1, kind: "staged", inboxId: "whk_dead", receivedAt },
      ],
      "mmlite-webhooks-dlq",
      11,
    );
    expect(result.explicitAcks).toHaveLength(2);
    const dead = await rows(
      "SELECT body, inbox_id, received_at, attempts FROM webhook_dead_letters ORDER BY inbox_id",
    );
    expect(dead).toEqual([
      {
        body: '{"object":"whatsapp_business_account","entry":[]}',
        inbox_id: null,
        received_at: receivedAt,
        attempts: 11,
      },
      { body: '{"big":1}', inbox_id: "whk_dead", received_at: receivedAt, attempts: 11 },
    ]);
    expect(await row("SELECT COUNT(*) AS n FROM webhook_inbox")).toEqual({ n: 0 });
  });
});
