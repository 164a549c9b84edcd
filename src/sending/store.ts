import { and, between, eq, inArray } from "drizzle-orm";
import { db } from "../db/client";
import { type BotRow, bots, type CampaignRow, campaigns, type MessageRow, messages } from "../db/schema";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { applyPendingStatuses } from "../webhooks/apply";
import {
  failOptedOutStatement,
  OPT_OUT_CODE,
  optedOutMessages,
  recordOptOutStatements,
} from "../webhooks/opt-outs";
import type { QueueJob } from "./jobs";
import { flush, type StagedJob, stage } from "./outbox";
import { OUTCOME_UNKNOWN_TITLE, type SendOutcome } from "./outcome";

/** D1 side of sending: load a job's rows, claim them (the send intent), record what happened. */

export interface JobContext {
  job: QueueJob;
  bot: BotRow;
  campaign: CampaignRow;
  /** Queued, never attempted or refused by Meta on every earlier attempt: safe to send. */
  sendable: MessageRow[];
  /** Queued but carrying a send intent without a wamid: the last attempt may have reached Meta. */
  unknown: MessageRow[];
}

export interface Result {
  message: MessageRow;
  outcome: SendOutcome;
  attempts: number;
}

/** D1 allows 100 bound parameters per statement; ids go in chunks below that. */
const ID_CHUNK = 80;

function chunks<T>(items: T[], size = ID_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function loadJobContext(env: Env, job: QueueJob): Promise<JobContext | null> {
  const d = db(env);
  const [bot, campaign] = await Promise.all([
    d.select().from(bots).where(eq(bots.id, job.botId)).get(),
    d.select().from(campaigns).where(eq(campaigns.id, job.campaignId)).get(),
  ]);
  if (!bot || !campaign) {
    log.error("send_job_orphaned", { campaignId: job.campaignId });
    return null;
  }
  if (campaign.status === "cancelled") return null;
  const rows: MessageRow[] = [];
  const queued = and(eq(messages.campaignId, campaign.id), eq(messages.status, "queued"));
  if (job.kind === "send_range") {
    rows.push(
      ...(await d
        .select()
        .from(messages)
        .where(and(queued, between(messages.seq, job.fromSeq, job.toSeq)))
        .all()),
    );
  } else {
    for (const ids of chunks(job.messageIds)) {
      rows.push(
        ...(await d
          .select()
          .from(messages)
          .where(and(queued, inArray(messages.id, ids)))
          .all()),
      );
    }
  }
  rows.sort((a, b) => a.seq - b.seq);
  const fresh = rows.filter((m) => m.sendIntentAt === null);
  const optedOut = await failOptedOut(env, bot, campaign, fresh);
  return {
    job,
    bot,
    campaign,
    sendable: fresh.filter((m) => !optedOut.has(m.id)),
    unknown: rows.filter((m) => m.sendIntentAt !== null && m.wamid === null),
  };
}

/**
 * Opt-outs known when the job starts fail before it books slots for them (an unused slot is lost
 * to the number); `claim` checks again just before each block leaves.
 */
async function failOptedOut(
  env: Env,
  bot: BotRow,
  campaign: CampaignRow,
  fresh: MessageRow[],
): Promise<Set<string>> {
  if (campaign.templateCategory !== "MARKETING" || fresh.length === 0) return new Set();
  const ids = await optedOutMessages(env, bot.wabaId, fresh);
  if (ids.length === 0) return new Set();
  const now = isoNow();
  const { results } = await failOptedOutStatement(env.DB, bot.wabaId, ids, now).all<{ id: string }>();
  await completeIfDone(env, campaign.id, now).run();
  log.info("opted_out_not_sent", { campaignId: campaign.id, count: results.length });
  return new Set(results.map((r) => r.id));
}

export interface Claim {
  /** Claimed messages and their attempt counts (this attempt included): send these. */
  claimed: Map<string, number>;
  /** Messages of the block that failed with 131050 instead: their number opted out. */
  optedOut: Set<string>;
}

/**
 * Record the send intent of messages about to be sent, in one D1 batch per 80 ids. Only rows still
 * queued and without an intent are claimed, so two consumers holding the same job (a redelivery) can
 * never both send a message: the second claims nothing.
 *
 * Opt-outs (api.md "Opt-outs"): a marketing message is not sent to a number that stopped the
 * WABA's marketing messages; it fails with Meta's code for it. The check runs here, in the claim's
 * batch, just before the block leaves, so an opt-out that arrives while the job waits for its
 * slots still stops it (checked only at job start, a job's later blocks went out up to seconds
 * after it).
 */
export async function claim(env: Env, ctx: JobContext, ids: string[]): Promise<Claim> {
  const out: Claim = { claimed: new Map(), optedOut: new Set() };
  const at = isoNow();
  const marketing = ctx.campaign.templateCategory === "MARKETING";
  for (const part of chunks(ids)) {
    const marks = part.map(() => "?").join(",");
    const statements: D1PreparedStatement[] = [];
    if (marketing) statements.push(failOptedOutStatement(env.DB, ctx.bot.wabaId, part, at));
    // A cancel that lands between blocks stops the next block: nothing is claimed any more.
    statements.push(
      env.DB.prepare(
        `UPDATE messages SET send_intent_at = ?, attempts = attempts + 1
         WHERE id IN (${marks}) AND status = 'queued' AND send_intent_at IS NULL
           AND EXISTS (SELECT 1 FROM campaigns WHERE id = ? AND status = 'sending')
         RETURNING id, attempts`,
      ).bind(at, ...part, ctx.campaign.id),
    );
    const answers = await env.DB.batch<{ id: string; attempts: number }>(statements);
    const claimed = answers[answers.length - 1]?.results ?? [];
    for (const r of claimed) out.claimed.set(r.id, r.attempts);
    if (marketing) for (const r of answers[0]?.results ?? []) out.optedOut.add(r.id);
  }
  if (out.optedOut.size > 0)
    log.info("opted_out_not_sent", { campaignId: ctx.campaign.id, count: out.optedOut.size });
  return out;
}

/** Accepted sends per statement: a job carries at most 500 (one second at the highest cap). */
const ACCEPTED_PER_STATEMENT = 500;

/** [id, wamid, accepted_at, route, route_reason or null] per accepted send; only queued rows change. */
const ACCEPTED_SQL = `UPDATE messages SET status = 'accepted', wamid = a.wamid, accepted_at = a.accepted_at,
  route = a.route, route_reason = COALESCE(a.route_reason, messages.route_reason),
  error_code = NULL, error_title = NULL
FROM (
  SELECT json_extract(j.value, '$[0]') AS id, json_extract(j.value, '$[1]') AS wamid,
         json_extract(j.value, '$[2]') AS accepted_at, json_extract(j.value, '$[3]') AS route,
         json_extract(j.value, '$[4]') AS route_reason
  FROM json_each(?1) AS j
) AS a
WHERE messages.id = a.id AND messages.status = 'queued'`;

/** Apply every outcome in one D1 batch, stage retries through the outbox, close the campaign if done. */
export async function recordOutcomes(env: Env, ctx: JobContext, results: Result[]): Promise<void> {
  const now = isoNow();
  const statements: D1PreparedStatement[] = [];
  const retryIds: string[] = [];
  let retryDelayMs = 0;
  // Accepted sends (nearly every result) are written by one multi-row statement per chunk: a
  // statement per message made a job's write cost tens of ms, and locally (D1 on the same thread)
  // that delayed the next job's first slots.
  const accepted: [string, string, string, string, string | null][] = [];
  for (const { message, outcome } of results) {
    switch (outcome.kind) {
      case "accepted":
        accepted.push([message.id, outcome.wamid, outcome.acceptedAt, outcome.route, outcome.reason]);
        break;
      case "failed":
        statements.push(
          env.DB.prepare(
            `UPDATE messages SET status = 'failed', error_code = ?, error_title = ?, failed_at = ?
             WHERE id = ? AND status = 'queued'`,
          ).bind(outcome.code, outcome.title, now, message.id),
        );
        break;
      case "unknown":
        statements.push(
          env.DB.prepare(
            `UPDATE messages SET status = 'failed', error_code = NULL, error_title = ?, failed_at = ?
             WHERE id = ? AND status = 'queued'`,
          ).bind(OUTCOME_UNKNOWN_TITLE, now, message.id),
        );
        break;
      case "rescheduled":
        // Never sent: undo the claim (intent and the attempt it counted) and send it with fresh slots.
        if (outcome.claimed) {
          statements.push(
            env.DB.prepare(
              `UPDATE messages SET send_intent_at = NULL, attempts = MAX(0, attempts - 1)
               WHERE id = ? AND status = 'queued' AND wamid IS NULL`,
            ).bind(message.id),
          );
        }
        retryIds.push(message.id);
        break;
      case "retry":
        // Meta refused this attempt, so clearing the intent is safe: the retry will claim it again.
        statements.push(
          env.DB.prepare(
            `UPDATE messages SET send_intent_at = NULL, route = ?, route_reason = ?, error_code = ?, error_title = ?
             WHERE id = ? AND status = 'queued'`,
          ).bind(message.route, message.routeReason, outcome.code, outcome.title, message.id),
        );
        retryIds.push(message.id);
        retryDelayMs = Math.max(retryDelayMs, outcome.delayMs);
        break;
    }
  }
  for (let i = 0; i < accepted.length; i += ACCEPTED_PER_STATEMENT)
    statements.push(
      env.DB.prepare(ACCEPTED_SQL).bind(JSON.stringify(accepted.slice(i, i + ACCEPTED_PER_STATEMENT))),
    );
  const staged: StagedJob[] = [];
  if (retryIds.length > 0) {
    const { campaignId, botId } = ctx.job;
    const [job, insert] = stage(
      env.DB,
      { v: 1, kind: "send", campaignId, botId, messageIds: retryIds },
      Math.min(43_200, Math.ceil(retryDelayMs / 1000)),
    );
    staged.push(job);
    statements.push(insert);
  }
  // Meta refused with 131050: the number stopped marketing messages; remember it for later sends.
  const optedOut = results.flatMap(({ message, outcome }) =>
    outcome.kind === "failed" && outcome.code === OPT_OUT_CODE ? [message.to] : [],
  );
  statements.push(...recordOptOutStatements(env.DB, ctx.bot.wabaId, optedOut, now));
  // The campaign was cancelled while this job ran: what it did not send (refused, rescheduled) is
  // cancelled now, since later jobs of a cancelled campaign do nothing.
  const unsent = results.flatMap(({ message, outcome }) =>
    outcome.kind === "retry" || outcome.kind === "rescheduled" ? [message.id] : [],
  );
  if (unsent.length > 0) {
    statements.push(
      env.DB.prepare(
        `UPDATE messages SET status = 'cancelled'
         WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'queued' AND send_intent_at IS NULL
           AND EXISTS (SELECT 1 FROM campaigns WHERE id = ?2 AND status = 'cancelled')`,
      ).bind(JSON.stringify(unsent), ctx.campaign.id),
    );
  }
  statements.push(completeIfDone(env, ctx.campaign.id, now));
  await env.DB.batch(statements);
  // Statuses that arrived before their wamid was recorded (kept by the webhooks consumer).
  const wamids = results.flatMap(({ outcome }) => (outcome.kind === "accepted" ? [outcome.wamid] : []));
  try {
    await applyPendingStatuses(env, wamids, now);
  } catch (err) {
    // The cron applies them later (webhooks/sweep.ts).
    log.warn("pending_statuses_not_applied", { error: err instanceof Error ? err.message : "unknown" });
  }
  if (staged.length > 0) {
    try {
      await flush(env, staged);
    } catch (err) {
      log.error("retry_enqueue_failed", { error: err instanceof Error ? err.message : "unknown" });
    }
  }
}

/** `sending` → `completed` once no recipient is left queued (the trigger-kept counter says so). */
export function completeIfDone(env: Env, campaignId: string, now: string): D1PreparedStatement {
  return env.DB.prepare(
    `UPDATE campaigns SET status = 'completed', completed_at = ?
     WHERE id = ? AND status = 'sending' AND count_queued = 0`,
  ).bind(now, campaignId);
}
