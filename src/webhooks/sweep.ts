/**
 * The webhooks' part of the minute cron: apply pending statuses whose wamid has been recorded since
 * (a safety net for the send's own hook), forget those still unknown after 24 h, re-enqueue inbox
 * rows the queue never got, and forget pricing evidence long after Meta stops re-sending.
 */
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { applyPendingStatuses } from "./apply";
import { enqueueStaged } from "./inbox";

export const PENDING_TTL_MS = 24 * 3600_000;
/** A staged notification's queue message retries for well under this (10 retries, ≤ 5 min apart). */
export const INBOX_REENQUEUE_AFTER_MS = 3600_000;
/** Meta re-sends notifications for up to 7 days. */
export const PRICING_TTL_MS = 8 * 24 * 3600_000;

export async function sweepWebhooks(env: Env, nowMs = Date.now()): Promise<void> {
  const now = isoNow(nowMs);
  const { results: found } = await env.DB.prepare(
    `SELECT DISTINCT p.wamid FROM pending_statuses p JOIN messages m ON m.wamid = p.wamid LIMIT 500`,
  ).all<{ wamid: string }>();
  const applied = await applyPendingStatuses(
    env,
    found.map((r) => r.wamid),
    now,
  );
  const [expired, pricing] = await env.DB.batch([
    env.DB.prepare("DELETE FROM pending_statuses WHERE received_at < ?1").bind(
      isoNow(nowMs - PENDING_TTL_MS),
    ),
    env.DB.prepare("DELETE FROM message_pricing WHERE updated_at < ?1").bind(isoNow(nowMs - PRICING_TTL_MS)),
  ]);
  const { results: stale } = await env.DB.prepare(
    `SELECT id, received_at FROM webhook_inbox
     WHERE (enqueued_at IS NULL AND received_at < ?1) OR enqueued_at < ?2 ORDER BY received_at LIMIT 200`,
  )
    .bind(isoNow(nowMs - 60_000), isoNow(nowMs - INBOX_REENQUEUE_AFTER_MS))
    .all<{ id: string; received_at: string }>();
  const reenqueued = await enqueueStaged(
    env,
    stale.map((r) => ({ id: r.id, receivedAt: r.received_at })),
  );
  log.info("webhook_sweep", {
    pendingApplied: applied,
    pendingExpired: expired?.meta.changes ?? 0,
    pricingPurged: pricing?.meta.changes ?? 0,
    inboxReenqueued: reenqueued,
  });
}
