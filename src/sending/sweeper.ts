import { IDEMPOTENCY_TTL_MS } from "../http/idempotency";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { sweepWebhooks } from "../webhooks/sweep";
import { resendStale } from "./outbox";
import { OUTCOME_UNKNOWN_TITLE } from "./outcome";
import { completeIfDone } from "./store";

/**
 * A claim (send intent without a wamid) older than this belongs to no live job: a queue consumer
 * runs at most 15 minutes of wall time, and a job holds a claim for seconds.
 */
export const ABANDONED_CLAIM_MS = 20 * 60_000;

/**
 * The cron: re-send queue jobs the queue never took, forget idempotency keys past 24 h, and the
 * webhooks' housekeeping (pending statuses, inbox).
 */
export async function sweepStuckMessages(env: Env): Promise<void> {
  const resent = await resendStale(env);
  const purged = await env.DB.prepare("DELETE FROM idempotency_keys WHERE created_at < ?")
    .bind(isoNow(Date.now() - IDEMPOTENCY_TTL_MS - 3600_000))
    .run();
  const abandoned = await resolveAbandonedClaims(env);
  log.info("sweep", { resent, idempotencyPurged: purged.meta.changes, abandoned });
  await sweepWebhooks(env);
}

/**
 * Claims whose job crashed and was never run again stay `queued` for ever otherwise: a job of a
 * cancelled campaign does nothing, and the dead-letter consumer leaves claimed messages alone
 * (their job may still be sending). Meta may have accepted them, so they end as outcome unknown,
 * never re-sent, and their campaign can complete.
 */
export async function resolveAbandonedClaims(env: Env, nowMs = Date.now(), limit = 500): Promise<number> {
  const now = isoNow(nowMs);
  // The inner WHERE repeats the partial index messages_open_claims word for word, so SQLite uses it.
  const { results } = await env.DB.prepare(
    `UPDATE messages SET status = 'failed', error_code = NULL, error_title = ?1, failed_at = ?2
     WHERE id IN (
       SELECT id FROM messages
       WHERE status = 'queued' AND send_intent_at IS NOT NULL AND wamid IS NULL AND send_intent_at < ?3
       LIMIT ?4
     )
     RETURNING campaign_id`,
  )
    .bind(OUTCOME_UNKNOWN_TITLE, now, isoNow(nowMs - ABANDONED_CLAIM_MS), limit)
    .all<{ campaign_id: string }>();
  const campaigns = [...new Set(results.map((r) => r.campaign_id))];
  if (campaigns.length > 0) {
    await env.DB.batch(campaigns.map((id) => completeIfDone(env, id, now)));
    log.warn("abandoned_claims_resolved", { messages: results.length, campaigns: campaigns.length });
  }
  return results.length;
}
