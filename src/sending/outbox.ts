import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { type QueueJob, sendQueue } from "./jobs";

/**
 * Enqueueing through the outbox table (see db/schema.ts `outbox`): `stage` gives the D1 statement
 * to commit with the data, `flush` hands the jobs to the queue and clears their rows.
 */
export interface StagedJob {
  id: string;
  job: QueueJob;
  delaySeconds: number;
}

export function stage(db: D1Database, job: QueueJob, delaySeconds = 0): [StagedJob, D1PreparedStatement] {
  const staged = { id: newId("obx"), job, delaySeconds };
  const insert = db
    .prepare("INSERT INTO outbox (id, body, delay_seconds, created_at) VALUES (?, ?, ?, ?)")
    .bind(staged.id, JSON.stringify(job), delaySeconds, isoNow());
  return [staged, insert];
}

/** Stage many jobs in few statements (one JSON parameter per statement, not 4 per job). */
export function stageMany(
  db: D1Database,
  jobs: QueueJob[],
  perStatement = 500,
): [StagedJob[], D1PreparedStatement[]] {
  const staged = jobs.map((job) => ({ id: newId("obx"), job, delaySeconds: 0 }));
  const now = isoNow();
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < staged.length; i += perStatement) {
    const rows = staged.slice(i, i + perStatement).map((s) => [s.id, JSON.stringify(s.job)]);
    statements.push(
      db
        .prepare(
          `INSERT INTO outbox (id, body, delay_seconds, created_at)
           SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), 0, ? FROM json_each(?) AS j`,
        )
        .bind(now, JSON.stringify(rows)),
    );
  }
  return [staged, statements];
}

const SEND_BATCH_MAX = 100;

export async function flush(env: Env, jobs: StagedJob[]): Promise<void> {
  for (let i = 0; i < jobs.length; i += SEND_BATCH_MAX) {
    const part = jobs.slice(i, i + SEND_BATCH_MAX);
    await sendQueue(env).sendBatch(part.map((s) => ({ body: s.job, delaySeconds: s.delaySeconds })));
    const marks = part.map(() => "?").join(",");
    await env.DB.prepare(`DELETE FROM outbox WHERE id IN (${marks})`)
      .bind(...part.map((s) => s.id))
      .run();
  }
}

/** Re-send outbox rows older than `olderThanMs` (their first flush failed or never ran). */
export async function resendStale(env: Env, olderThanMs = 60_000, limit = 500): Promise<number> {
  const cutoff = isoNow(Date.now() - olderThanMs);
  const { results } = await env.DB.prepare(
    "SELECT id, body, delay_seconds FROM outbox WHERE created_at < ? ORDER BY created_at LIMIT ?",
  )
    .bind(cutoff, limit)
    .all<{ id: string; body: string; delay_seconds: number }>();
  const jobs = results.map((r) => ({ id: r.id, job: JSON.parse(r.body) as QueueJob, delaySeconds: 0 }));
  if (jobs.length > 0) {
    log.warn("outbox_resend", { count: jobs.length });
    await flush(env, jobs);
  }
  return jobs.length;
}
