/**
 * The webhooks queue's consumer. A batch (up to 100 notifications) is applied together: every
 * status of every notification is summarised per message and written in one D1 batch (./apply.ts),
 * opt-outs in the same batch; template and account events go to KV and the WABA's Durable Object.
 * Each queue message is acked or retried on its own: when the combined write fails, the messages
 * are applied one by one so a single bad one cannot hold back the rest. Everything is idempotent
 * (Meta itself re-sends notifications), so a retry or a duplicate is harmless.
 */

import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { optOutStatements, statusStatements } from "./apply";
import { applyTemplateEvents, applyTermsSigned } from "./events";
import { isWebhookQueueBody, type WebhookQueueBody } from "./inbox";
import { EMPTY_NOTIFICATION, type Notification, readNotification } from "./notification";

interface Item {
  msg: Message<unknown>;
  body: WebhookQueueBody | null;
  notification: Notification;
}

export function webhookRetryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts));
}

export async function handleWebhookBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  let items: Item[];
  try {
    items = await readItems(batch, env);
  } catch (err) {
    // D1 could not give the staged bodies: nothing was applied, try the whole batch again.
    log.error("webhook_batch_unreadable", { error: errorText(err) });
    for (const msg of batch.messages) msg.retry({ delaySeconds: webhookRetryDelaySeconds(msg.attempts) });
    return;
  }
  const now = isoNow();
  try {
    await applyAll(env, items, now);
    for (const item of items) item.msg.ack();
  } catch (err) {
    log.warn("webhook_batch_failed", { size: items.length, error: errorText(err) });
    for (const item of items) {
      try {
        await applyAll(env, [item], now);
        item.msg.ack();
      } catch (one) {
        log.error("webhook_apply_failed", {
          id: item.msg.id,
          attempts: item.msg.attempts,
          error: errorText(one),
        });
        item.msg.retry({ delaySeconds: webhookRetryDelaySeconds(item.msg.attempts) });
      }
    }
  }
}

async function readItems(batch: MessageBatch<unknown>, env: Env): Promise<Item[]> {
  const bodies = batch.messages.map((msg) => (isWebhookQueueBody(msg.body) ? msg.body : null));
  const inboxIds = bodies.flatMap((b) => (b?.kind === "staged" ? [b.inboxId] : []));
  const staged = new Map<string, string>();
  if (inboxIds.length > 0) {
    const { results } = await env.DB.prepare(
      "SELECT id, body FROM webhook_inbox WHERE id IN (SELECT value FROM json_each(?1))",
    )
      .bind(JSON.stringify(inboxIds))
      .all<{ id: string; body: string }>();
    for (const r of results) staged.set(r.id, r.body);
  }
  return batch.messages.map((msg, i) => {
    const body = bodies[i] ?? null;
    if (body === null) {
      log.error("webhook_queue_body_unreadable", { id: msg.id });
      return { msg, body, notification: EMPTY_NOTIFICATION };
    }
    // A staged row that is gone was applied by an earlier delivery of the same message.
    const raw = body.kind === "notification" ? body.body : staged.get(body.inboxId);
    return { msg, body, notification: raw === undefined ? EMPTY_NOTIFICATION : parse(raw, body.receivedAt) };
  });
}

function parse(raw: string, receivedAt: string): Notification {
  try {
    return readNotification(JSON.parse(raw), receivedAt);
  } catch {
    return EMPTY_NOTIFICATION; // The POST only enqueues JSON; a body that is not is not worth retrying.
  }
}

/** Applies the notifications of `items` together; throws when any part fails. */
async function applyAll(env: Env, items: Item[], now: string): Promise<void> {
  const all = items.map((i) => i.notification);
  const statements = [
    ...statusStatements(
      env.DB,
      all.flatMap((n) => n.statuses),
      { keepUnknown: true, now },
    ),
    ...optOutStatements(
      env.DB,
      all.flatMap((n) => n.optOuts),
      now,
    ),
  ];
  if (statements.length > 0) await env.DB.batch(statements);
  await applyTemplateEvents(
    env,
    all.flatMap((n) => n.templates),
  );
  await applyTermsSigned(env, [...new Set(all.flatMap((n) => n.termsSigned))]);
  const inboxIds = items.flatMap((i) => (i.body?.kind === "staged" ? [i.body.inboxId] : []));
  if (inboxIds.length > 0) {
    await env.DB.prepare("DELETE FROM webhook_inbox WHERE id IN (SELECT value FROM json_each(?1))")
      .bind(JSON.stringify(inboxIds))
      .run();
  }
}

/** Notifications that exhausted their retries: recorded in `webhook_dead_letters`, never dropped silently. */
export async function handleWebhookDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = isoNow();
  const statements: D1PreparedStatement[] = [];
  for (const msg of batch.messages) {
    const body = isWebhookQueueBody(msg.body) ? msg.body : null;
    const id = newId("wdl");
    if (body?.kind === "staged") {
      // Moved out of the inbox, so the cron stops re-enqueueing it.
      statements.push(
        env.DB.prepare(
          `INSERT INTO webhook_dead_letters (id, body, inbox_id, received_at, attempts, dead_at)
           SELECT ?1, body, id, received_at, ?2, ?3 FROM webhook_inbox WHERE id = ?4`,
        ).bind(id, msg.attempts, now, body.inboxId),
        env.DB.prepare("DELETE FROM webhook_inbox WHERE id = ?1").bind(body.inboxId),
      );
    } else {
      statements.push(
        env.DB.prepare(
          `INSERT INTO webhook_dead_letters (id, body, inbox_id, received_at, attempts, dead_at)
           VALUES (?1, ?2, NULL, ?3, ?4, ?5)`,
        ).bind(
          id,
          body?.kind === "notification" ? body.body : safeJson(msg.body),
          body?.receivedAt ?? null,
          msg.attempts,
          now,
        ),
      );
    }
    log.error("webhook_dead_lettered", { id: msg.id, attempts: msg.attempts, deadLetterId: id });
  }
  try {
    await env.DB.batch(statements);
    for (const msg of batch.messages) msg.ack();
  } catch (err) {
    log.error("webhook_dead_letter_record_failed", { error: errorText(err) });
    for (const msg of batch.messages) msg.retry({ delaySeconds: 60 });
  }
}

function safeJson(v: unknown): string | null {
  try {
    return JSON.stringify(v) ?? null;
  } catch {
    return null;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : "unknown";
}
