import { log } from "../lib/log";
import { wabaGate } from "../routing/service";
import { sendAtSlots } from "./dispatch";
import { isQueueJob, type QueueJob } from "./jobs";
import { completeIfDone, loadJobContext, type Result, recordOutcomes } from "./store";

/**
 * The send queue's consumer. Each queue message is a job (a chunk of message ids of one campaign);
 * jobs of a batch run concurrently, each acked on its own. A job that fails as a whole (D1 or the
 * Durable Object unreachable) is retried with backoff from `attempts`; per-recipient retries are
 * new jobs, so one slow recipient never holds back the others.
 */
export async function handleSendBatch(batch: MessageBatch<QueueJob>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (msg) => {
      if (!isQueueJob(msg.body)) {
        log.error("queue_job_unreadable", { queue: batch.queue, id: msg.id });
        msg.ack(); // Retrying cannot make it readable; the log is what helps.
        return;
      }
      try {
        await runJob(env, msg.body);
        msg.ack();
      } catch (err) {
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

export async function runJob(env: Env, job: QueueJob): Promise<void> {
  const ctx = await loadJobContext(env, job);
  if (!ctx) return;
  // A message that already carries a send intent but no wamid may have reached Meta: report it as
  // unknown rather than risk a second send.
  const results: Result[] = ctx.unknown.map((message) => ({
    message,
    outcome: { kind: "unknown", title: "" },
    attempts: message.attempts,
  }));
  if (ctx.sendable.length > 0) results.push(...(await sendAtSlots(env, ctx, wabaGate(env, ctx.bot.wabaId))));
  await recordOutcomes(env, ctx, results);
}

/** Messages that exhausted the queue's retries: recorded as failed, never silently dropped. */
export async function handleDeadLetters(batch: MessageBatch<QueueJob>, env: Env): Promise<void> {
  for (const msg of batch.messages) {
    if (isQueueJob(msg.body)) {
      const ids = msg.body.messageIds;
      const now = new Date().toISOString();
      for (let i = 0; i < ids.length; i += 90) {
        const part = ids.slice(i, i + 90);
        await env.DB.prepare(
          `UPDATE messages SET status = 'failed', error_title = 'Dead-lettered: the send job failed repeatedly', failed_at = ?
           WHERE id IN (${part.map(() => "?").join(",")}) AND status = 'queued'`,
        )
          .bind(now, ...part)
          .run();
      }
      await completeIfDone(env, msg.body.campaignId, now).run();
      log.error("send_job_dead_lettered", { campaignId: msg.body.campaignId, messages: ids.length });
    } else {
      log.error("dead_letter_unreadable", { id: msg.id });
    }
    msg.ack();
  }
}
