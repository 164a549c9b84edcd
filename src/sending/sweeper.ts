import { IDEMPOTENCY_TTL_MS } from "../http/idempotency";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { sweepWebhooks } from "../webhooks/sweep";
import { resendStale } from "./outbox";

/**
 * The cron: re-send queue jobs the queue never took, forget idempotency keys past 24 h, and the
 * webhooks' housekeeping (pending statuses, inbox).
 */
export async function sweepStuckMessages(env: Env): Promise<void> {
  const resent = await resendStale(env);
  const purged = await env.DB.prepare("DELETE FROM idempotency_keys WHERE created_at < ?")
    .bind(isoNow(Date.now() - IDEMPOTENCY_TTL_MS - 3600_000))
    .run();
  log.info("sweep", { resent, idempotencyPurged: purged.meta.changes });
  await sweepWebhooks(env);
}
