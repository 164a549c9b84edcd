/**
 * Durable acceptance of a verified notification: the raw body goes to the webhooks queue as it is,
 * or, when it is too large for one queue message (or the queue refuses it), into `webhook_inbox`
 * with only its id on the queue. Bodies are versioned and discriminated, like the send queue's.
 */

import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";

export interface InlineNotificationV1 {
  v: 1;
  kind: "notification";
  body: string;
  receivedAt: string;
}

export interface StagedNotificationV1 {
  v: 1;
  kind: "staged";
  inboxId: string;
  receivedAt: string;
}

export type WebhookQueueBody = InlineNotificationV1 | StagedNotificationV1;

export function isWebhookQueueBody(b: unknown): b is WebhookQueueBody {
  if (typeof b !== "object" || b === null) return false;
  const o = b as Record<string, unknown>;
  if (o.v !== 1 || typeof o.receivedAt !== "string") return false;
  if (o.kind === "notification") return typeof o.body === "string";
  if (o.kind === "staged") return typeof o.inboxId === "string";
  return false;
}

/** Queue names (any environment suffix) whose messages are webhook notifications. */
export function isWebhookQueue(name: string): boolean {
  return name.includes("webhooks");
}

export function isDeadLetterQueue(name: string): boolean {
  return name.endsWith("-dlq");
}

/**
 * Queue messages are limited to 128 KB as serialised; a string takes up to 2 bytes per character
 * there, so bodies above this many characters are staged in D1 instead.
 */
export const INLINE_MAX_CHARS = 60_000;

function webhookQueue(env: Env): Queue<WebhookQueueBody> {
  return env.WEBHOOK_QUEUE as Queue<WebhookQueueBody>;
}

/** Resolves once the notification is durable (queue or D1); throws only when both refuse it. */
export async function acceptNotification(env: Env, raw: string, receivedAt = isoNow()): Promise<void> {
  if (raw.length <= INLINE_MAX_CHARS) {
    try {
      await webhookQueue(env).send({ v: 1, kind: "notification", body: raw, receivedAt });
      return;
    } catch (err) {
      log.warn("webhook_enqueue_failed", { error: err instanceof Error ? err.message : "unknown" });
    }
  }
  const inboxId = newId("whk");
  await env.DB.prepare(
    "INSERT INTO webhook_inbox (id, body, received_at, enqueued_at) VALUES (?, ?, ?, NULL)",
  )
    .bind(inboxId, raw, receivedAt)
    .run();
  await enqueueStaged(env, [{ id: inboxId, receivedAt }]);
}

/**
 * Hands inbox rows to the queue and marks them handed over. A failure leaves them for the cron
 * (`enqueued_at` stays as it was), never loses them: the rows are already in D1.
 */
export async function enqueueStaged(env: Env, rows: { id: string; receivedAt: string }[]): Promise<number> {
  let done = 0;
  for (let i = 0; i < rows.length; i += 100) {
    const part = rows.slice(i, i + 100);
    try {
      await webhookQueue(env).sendBatch(
        part.map((r) => ({ body: { v: 1, kind: "staged", inboxId: r.id, receivedAt: r.receivedAt } })),
      );
      await env.DB.prepare(
        "UPDATE webhook_inbox SET enqueued_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))",
      )
        .bind(isoNow(), JSON.stringify(part.map((r) => r.id)))
        .run();
      done += part.length;
    } catch (err) {
      log.warn("webhook_staged_enqueue_failed", {
        count: part.length,
        error: err instanceof Error ? err.message : "unknown",
      });
    }
  }
  return done;
}
