import { getConfig } from "../config";
import { InTurn } from "../lib/in-turn";
import { log } from "../lib/log";
import { wabaGate } from "../routing/service";
import { JobDeferred, sendAtSlots } from "./dispatch";
import { InFlight } from "./in-flight";
import { isQueueJob, type QueueJob } from "./jobs";
import { completeIfDone, loadJobContext, type Result, recordOutcomes } from "./store";

/**
 * The send queue's consumer. Each queue message is a job (a chunk of message ids of one campaign);
 * jobs of a batch run concurrently, each acked on its own. A job that fails as a whole (D1 or the
 * Durable Object unreachable) is retried with backoff from `attempts`; per-recipient retries are
 * new jobs, so one slow recipient never holds back the others.
 */
export async function handleSendBatch(batch: MessageBatch<QueueJob>, env: Env): Promise<void> {
  // One bound for the whole invocation: the runtime's connection limit is per invocation.
  const limiter = new InFlight(getConfig(env).MAX_SENDS_IN_FLIGHT);
  // The jobs read their messages one after another, in batch order. Read all at once, each took
  // the time of all fifteen (≈ 80 ms locally, where D1 shares the thread), and the number idled
  // that long at every batch start; now the first job reads alone and starts sending, and the
  // others read while it sends (their slots come later anyway).
  const loads = new InTurn();
  await Promise.all(
    batch.messages.map(async (msg) => {
      if (!isQueueJob(msg.body)) {
        log.error("queue_job_unreadable", { queue: batch.queue, id: msg.id });
        msg.ack(); // Retrying cannot make it readable; the log is what helps.
        return;
      }
      try {
        await runJob(env, msg.body, limiter, loads);
        msg.ack();
      } catch (err) {
        if (err instanceof JobDeferred) {
          // Not a failure: the number is busy and the WABA's object holds the job until it has
          // room (acking keeps `attempts` for real failures).
          msg.ack();
          return;
        }
        log.error("send_job_failed", {
          campaignId: msg.body.campaignId,
          attempts: msg.attempts,
          error: err instanceof Error ? err.message : "unknown",
        });
        msg.retry({ delaySeconds: jobRetryDelaySeconds(msg.attempts) });
      }
    }),
  );
}

export function jobRetryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts));
}

export async function runJob(
  env: Env,
  job: QueueJob,
  limiter = new InFlight(getConfig(env).MAX_SENDS_IN_FLIGHT),
  loads = new InTurn(),
): Promise<void> {
  const ctx = await loads.run(() => loadJobContext(env, job));
  if (!ctx) return;
  // A message that already carries a send intent but no wamid may have reached Meta: report it as
  // unknown rather than risk a second send.
  const results: Result[] = ctx.unknown.map((message) => ({
    message,
    outcome: { kind: "unknown", title: "" },
    attempts: message.attempts,
  }));
  if (ctx.sendable.length > 0) {
    const gate = wabaGate(env, ctx.bot.wabaId);
    const record = (early: Result[]) => recordOutcomes(env, ctx, early);
    results.push(...(await sendAtSlots(env, ctx, gate, limiter, record)));
  }
  await recordOutcomes(env, ctx, results);
}

/**
 * Messages that exhausted the queue's retries: recorded as failed, never silently dropped. Claimed
 * ones (intent, no wamid) are left to the cron (sweeper.ts `resolveAbandonedClaims`): another copy
 * of the job may still be sending them, and past any job's lifetime they end as outcome unknown.
 */
export async function handleDeadLetters(batch: MessageBatch<QueueJob>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    const job = msg.body;
    if (!isQueueJob(job)) {
      log.error("dead_letter_unreadable", { id: msg.id });
      msg.ack();
      continue;
    }
    const now = new Date().toISOString();
    const fail = `UPDATE messages SET status = 'failed', error_title = ?, failed_at = ?
       WHERE campaign_id = ? AND status = 'queued' AND send_intent_at IS NULL`;
    const reason = "Dead-lettered: the send job failed repeatedly";
    const statements: D1PreparedStatement[] = [];
    if (job.kind === "send_range") {
      statements.push(
        env.DB.prepare(`${fail} AND seq BETWEEN ? AND ?`).bind(
          reason,
          now,
          job.campaignId,
          job.fromSeq,
          job.toSeq,
        ),
      );
    } else {
      for (let i = 0; i < job.messageIds.length; i += 80) {
        const part = job.messageIds.slice(i, i + 80);
        statements.push(
          env.DB.prepare(`${fail} AND id IN (${part.map(() => "?").join(",")})`).bind(
            reason,
            now,
            job.campaignId,
            ...part,
          ),
        );
      }
    }
    statements.push(completeIfDone(env, job.campaignId, now));
    await env.DB.batch(statements);
    log.error("send_job_dead_lettered", { campaignId: job.campaignId, kind: job.kind });
    msg.ack();
  }
}
