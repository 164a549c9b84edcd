import { AppError, problemBody } from "../lib/errors";
import { log } from "../lib/log";
import { sha256Hex } from "./auth";

/**
 * `Idempotency-Key` (per bot, kept 24 h): the first request claims the key, its answer is stored,
 * a repeat with the same JSON value gets the same status and body back, a repeat with a different
 * body is a 409 `idempotency_conflict`. 5xx answers are not stored, so the client may retry them.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * What a write use case hands back: its answer, the D1 statements that make it durable, and work
 * to do once they are committed (enqueueing). The answer is stored in the same D1 batch as the
 * writes, so a crash can never leave a created message without its stored answer (and a retry
 * can never create it twice).
 */
export interface WriteResult {
  answer: StoredAnswer;
  writes: D1PreparedStatement[];
  afterCommit?: () => Promise<void>;
}

export async function commit(db: D1Database, result: WriteResult, extra: D1PreparedStatement[] = []) {
  const statements = [...result.writes, ...extra];
  if (statements.length > 0) await db.batch(statements);
  try {
    await result.afterCommit?.();
  } catch (err) {
    // The writes are durable; the sweeper re-enqueues anything left queued (src/sending/sweeper.ts).
    log.error("after_commit_failed", { error: err instanceof Error ? err.message : "unknown" });
  }
  return result.answer;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export async function withIdempotency(
  db: D1Database,
  scope: { botId: string; key: string | undefined; route: string },
  request: unknown,
  run: () => Promise<WriteResult>,
  now = Date.now(),
): Promise<StoredAnswer> {
  const { botId, key } = scope;
  if (key === undefined) return commit(db, await run());
  if (key.length === 0 || key.length > 255) {
    throw new AppError(400, "invalid_request", "Invalid Idempotency-Key", {
      detail: "Idempotency-Key must be 1 to 255 characters",
    });
  }
  const hash = await sha256Hex(`${scope.route}\n${canonicalJson(request)}`);
  const createdAt = new Date(now).toISOString();
  const expired = new Date(now - IDEMPOTENCY_TTL_MS).toISOString();

  // Claim the key; an expired claim is replaced in the same statement.
  const claim = await db
    .prepare(
      `INSERT INTO idempotency_keys (bot_id, key, request_hash, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (bot_id, key) DO UPDATE SET request_hash = excluded.request_hash,
         response_status = NULL, response_body = NULL, created_at = excluded.created_at
       WHERE idempotency_keys.created_at < ?`,
    )
    .bind(botId, key, hash, createdAt, expired)
    .run();

  if (claim.meta.changes === 0) {
    const row = await db
      .prepare(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE bot_id = ? AND key = ?",
      )
      .bind(botId, key)
      .first<{ request_hash: string; response_status: number | null; response_body: string | null }>();
    if (row && row.request_hash !== hash) {
      throw new AppError(409, "idempotency_conflict", "Idempotency key reused with a different body", {
        detail: "This Idempotency-Key was first used with another request body",
      });
    }
    if (row?.response_status != null && row.response_body != null) {
      return { status: row.response_status, body: JSON.parse(row.response_body) };
    }
    throw new AppError(409, "idempotency_in_progress", "A request with this key is in progress", {
      detail: "The first request with this Idempotency-Key has not finished; retry shortly",
      headers: { "Retry-After": "1" },
    });
  }

  let result: WriteResult;
  try {
    result = await run();
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      await store(db, botId, key, { status: err.status, body: problemBody(err) }).run();
    } else {
      await db.prepare("DELETE FROM idempotency_keys WHERE bot_id = ? AND key = ?").bind(botId, key).run();
    }
    throw err;
  }
  try {
    return await commit(db, result, [store(db, botId, key, result.answer)]);
  } catch (err) {
    // The batch is atomic: nothing was written, so release the key for a retry.
    await db.prepare("DELETE FROM idempotency_keys WHERE bot_id = ? AND key = ?").bind(botId, key).run();
    throw err;
  }
}

function store(db: D1Database, botId: string, key: string, answer: StoredAnswer): D1PreparedStatement {
  return db
    .prepare(
      "UPDATE idempotency_keys SET response_status = ?, response_body = ? WHERE bot_id = ? AND key = ?",
    )
    .bind(answer.status, JSON.stringify(answer.body), botId, key);
}
