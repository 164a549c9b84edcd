import { getConfig } from "../config";
import { InTurn } from "../lib/in-turn";
import { log } from "../lib/log";
import { Relay } from "../lib/relay";
import { sleep } from "../lib/time";
import { wabaGate } from "../routing/service";
import { JobDeferred, type JobHooks, sendAtSlots } from "./dispatch";
import { InFlight } from "./in-flight";
import { isQueueJob, type QueueJob } from "./jobs";
import { completeIfDone, loadJobContext, type Result, recordOutcomes } from "./store";

/**
 * The send queue's consumer. Each queue message is a job (a chunk of message ids of one campaign);
 * jobs of a batch run concurrently, each acked on its own. A job that fails as a whole (D1 or the
 * Durable Object unreachable) is retried with backoff from `attempts`; per-recipient retries are
 * new jobs, so one slow recipient never holds back the others.
 *
 * A job is acked as soon as every one of its messages is claimed, and the invocation returns once
 * every job of the batch is acked or retried; the jobs' last sends and outcome writes go on under
 * `waitUntil`. With `queue_consumer_no_wait_for_wait_until` (wrangler.toml) the queue then hands
 * out the next batch while the last block of this one is still leaving, so a number does not idle
 * while the queue delivers the next batch (locally, batches come one at a time). A redelivery could
 * not do more with that rest anyway: claimed messages are never sent again, and a crash leaves
 * them to be reported as outcome unknown (sweeper.ts).
 */
export async function handleSendBatch(
  batch: MessageBatch<QueueJob>,
  env: Env,
  ctx: ExecutionContext,
): Promise<void> {
  const shared = batchShared(env);
  await Promise.all(
    batch.messages.map(async (msg) => {
      if (!isQueueJob(msg.body)) {
        log.error("queue_job_unreadable", { queue: batch.queue, id: msg.id });
        msg.ack(); // Retrying cannot make it readable; the log is what helps.
        return;
      }
      const job = msg.body;
      let decided = false;
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The first of: every message claimed (ack), the job's end (ack), its failure (retry).
      const decide = (how: () => void) => {
        if (!decided) {
          decided = true;
          how();
        }
        release();
      };
      const run = runJob(env, job, shared, () => decide(() => msg.ack())).then(
        () => decide(() => msg.ack()),
        (err) => {
          if (decided) {
            // Acked already: what failed is the final write, tried three times (runJob).
            log.error("send_job_failed_after_ack", {
              campaignId: job.campaignId,
              error: err instanceof Error ? err.message : "unknown",
            });
            return;
          }
          if (err instanceof JobDeferred) {
            // Not a failure: the number is busy and the WABA's object holds the job until it has
            // room (acking keeps `attempts` for real failures).
            decide(() => msg.ack());
            return;
          }
          log.error("send_job_failed", {
            campaignId: job.campaignId,
            attempts: msg.attempts,
            error: err instanceof Error ? err.message : "unknown",
          });
          decide(() => msg.retry({ delaySeconds: jobRetryDelaySeconds(msg.attempts) }));
        },
      );
      ctx.waitUntil(run);
      await released;
    }),
  );
}

export function jobRetryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** Math.max(0, attempts));
}

/** What the jobs of one batch (one consumer invocation) share. */
export interface BatchShared {
  /** One bound for the whole invocation: the runtime's connection limit is per invocation. */
  limiter: InFlight;
  /**
   * The jobs read their messages one after another, in batch order. Read all at once, each took
   * the time of all fifteen (≈ 80 ms locally, where D1 shares the thread), and the number idled
   * that long at every batch start; now the first job reads alone and starts sending.
   */
  loads: InTurn;
  /**
   * The jobs of one number start one by one, each LOAD_LEAD_MS before the previous one's slots
   * run out: fifteen reads and bookings at the batch start crowded the first job's first sends off
   * their slots (≈ 130 ms lost at every batch start locally).
   */
  relay: Relay;
}

export function batchShared(env: Env): BatchShared {
  return {
    limiter: new InFlight(getConfig(env).MAX_SENDS_IN_FLIGHT),
    loads: new InTurn(),
    relay: new Relay(),
  };
}

/**
 * `claimedAll` is called once every message of the job is claimed (see JobHooks). After it the job
 * is acked and no queue retry runs it again, so the final outcome write is tried three times here.
 */
export async function runJob(
  env: Env,
  job: QueueJob,
  shared = batchShared(env),
  claimedAll?: () => void,
): Promise<void> {
  const pass = await shared.relay.turn(job.botId);
  try {
    await runJobInTurn(env, job, shared, claimedAll, pass);
  } finally {
    pass(); // no grant (nothing to send, parked, failed): the next job of the number goes now
  }
}

/** A job's next of kin in the batch may start this long before the job's slots run out. */
const LOAD_LEAD_MS = 300;

async function runJobInTurn(
  env: Env,
  job: QueueJob,
  shared: BatchShared,
  claimedAll: (() => void) | undefined,
  pass: (at?: number) => void,
): Promise<void> {
  const ctx = await shared.loads.run(() => loadJobContext(env, job));
  if (!ctx) return;
  // A message that already carries a send intent but no wamid may have reached Meta: report it as
  // unknown rather than risk a second send.
  const results: Result[] = ctx.unknown.map((message) => ({
    message,
    outcome: { kind: "unknown", title: "" },
    attempts: message.attempts,
  }));
  let handedOff = false;
  if (ctx.sendable.length > 0) {
    const gate = wabaGate(env, ctx.bot.wabaId);
    const hooks: JobHooks = {
      record: (early: Result[]) => recordOutcomes(env, ctx, early),
      claimedAll: () => {
        if (handedOff || !claimedAll) return;
        handedOff = true;
        claimedAll();
      },
      granted: (endsAt) => pass(endsAt - LOAD_LEAD_MS),
    };
    results.push(...(await sendAtSlots(env, ctx, gate, shared.limiter, hooks)));
  }
  await withRetries(() => recordOutcomes(env, ctx, results), handedOff ? FINAL_WRITE_TRIES : 1);
}

/** Tries of a job's final outcome write once the job is acked (1 s, then 2 s apart). */
const FINAL_WRITE_TRIES = 3;

async function withRetries(fn: () => Promise<void>, tries: number): Promise<void> {
  for (let k = 1; ; k++) {
    try {
      return await fn();
    } catch (err) {
      if (k >= tries) throw err;
      log.warn("outcome_write_retried", { error: err instanceof Error ? err.message : "unknown" });
      await sleep(1000 * k);
    }
  }
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
