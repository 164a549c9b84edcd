/**
 * D1 side of status webhooks: a whole queue batch of statuses becomes a handful of statements run
 * in one `DB.batch` (one round trip, one transaction), whatever the number of statuses:
 *
 *  1. merge: one multi-row `UPDATE … FROM json_each(?)` per chunk of messages, carrying each
 *     message's summary (status-machine.ts `StatusDelta`). The merge is written in SQL against the
 *     row's current values (`mergeDelta` mirrored), so two batches touching one message at the same
 *     time both count. Each column changes only forward: a time only gets earlier (NULL → value, or
 *     value → earlier value, which 0003's triggers move in the timeline), the status only up the
 *     ladder or to `failed`, the error only when the status becomes `failed`: the triggers of 0001
 *     keep the campaign's counts, funnel, timeline, confirmed routes and errors exact.
 *  2. pricing: upsert of `message_pricing` (the latest pricing wins), then one UPDATE of
 *     `confirmed_route` from it, for the rows whose route changed.
 *  3. pending: statuses whose wamid no message carries yet go to `pending_statuses`, in the same
 *     transaction as the check, so a send that records its wamid just after still finds them.
 *  4. opt-outs: one multi-row upsert (the latest event per WABA and number wins).
 */
import type { OptOutEvent } from "./notification";
import { type StatusDelta, type StatusEvent, summarize } from "./status-machine";

/** Rows per JSON parameter: keeps each statement's parameter well under D1's limits. */
const ROWS_PER_STATEMENT = 400;

function chunks<T>(items: T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Groups statuses by wamid in arrival order and summarises each message's statuses. */
export function summariesByWamid(events: readonly StatusEvent[]): Map<string, StatusDelta> {
  const byWamid = new Map<string, StatusEvent[]>();
  for (const e of events) {
    const list = byWamid.get(e.wamid);
    if (list) list.push(e);
    else byWamid.set(e.wamid, [e]);
  }
  return new Map([...byWamid].map(([wamid, list]) => [wamid, summarize(list)]));
}

const TRACKED = "('accepted','sent','delivered','read','failed')";
const LADDER = "('accepted','sent','delivered','read')";

/** `mergeDelta` of status-machine.ts, in SQL; `u` is the summary, `messages` the current row. */
const MERGE_SQL = `UPDATE messages SET
  status = CASE
    WHEN messages.status NOT IN ${LADDER} THEN messages.status
    WHEN u.failed_at IS NOT NULL THEN 'failed'
    WHEN u.reached > (CASE messages.status WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4 ELSE 1 END)
      THEN (CASE u.reached WHEN 2 THEN 'sent' WHEN 3 THEN 'delivered' ELSE 'read' END)
    ELSE messages.status END,
  failed_at = CASE WHEN messages.status IN ${LADDER} AND u.failed_at IS NOT NULL THEN u.failed_at ELSE messages.failed_at END,
  error_code = CASE WHEN messages.status IN ${LADDER} AND u.failed_at IS NOT NULL THEN u.error_code ELSE messages.error_code END,
  error_title = CASE WHEN messages.status IN ${LADDER} AND u.failed_at IS NOT NULL THEN u.error_title ELSE messages.error_title END,
  sent_at = CASE WHEN u.sent_at IS NOT NULL AND (messages.sent_at IS NULL OR u.sent_at < messages.sent_at) THEN u.sent_at ELSE messages.sent_at END,
  delivered_at = CASE WHEN u.delivered_at IS NOT NULL AND (messages.delivered_at IS NULL OR u.delivered_at < messages.delivered_at) THEN u.delivered_at ELSE messages.delivered_at END,
  read_at = CASE WHEN u.read_at IS NOT NULL AND (messages.read_at IS NULL OR u.read_at < messages.read_at) THEN u.read_at ELSE messages.read_at END
FROM (
  SELECT json_extract(j.value, '$[0]') AS wamid, json_extract(j.value, '$[1]') AS reached,
         json_extract(j.value, '$[2]') AS sent_at, json_extract(j.value, '$[3]') AS delivered_at,
         json_extract(j.value, '$[4]') AS read_at, json_extract(j.value, '$[5]') AS failed_at,
         json_extract(j.value, '$[6]') AS error_code, json_extract(j.value, '$[7]') AS error_title
  FROM json_each(?1) AS j
) AS u
WHERE messages.wamid = u.wamid AND messages.wamid IS NOT NULL AND messages.status IN ${TRACKED}`;

const PRICING_SQL = `INSERT INTO message_pricing (wamid, route, at, updated_at)
SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), ?2
FROM json_each(?1) AS j
WHERE EXISTS (SELECT 1 FROM messages m WHERE m.wamid = json_extract(j.value, '$[0]') AND m.status IN ${TRACKED})
ON CONFLICT (wamid) DO UPDATE SET route = excluded.route, at = excluded.at, updated_at = excluded.updated_at
WHERE excluded.at >= message_pricing.at`;

const CONFIRMED_ROUTE_SQL = `UPDATE messages SET confirmed_route = p.route
FROM message_pricing AS p
WHERE p.wamid = messages.wamid AND messages.wamid IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))
  AND messages.confirmed_route IS NOT p.route`;

const PENDING_SQL = `INSERT INTO pending_statuses (wamid, payload, received_at)
SELECT json_extract(j.value, '$.wamid'), j.value, ?2
FROM json_each(?1) AS j
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.wamid = json_extract(j.value, '$.wamid'))`;

const OPT_OUT_SQL = `INSERT INTO marketing_opt_outs (waba_id, wa_id, opted_out, at, updated_at)
SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
       json_extract(j.value, '$[3]'), ?2
FROM json_each(?1) AS j WHERE true
ON CONFLICT (waba_id, wa_id) DO UPDATE SET opted_out = excluded.opted_out, at = excluded.at,
  updated_at = excluded.updated_at
WHERE excluded.at >= marketing_opt_outs.at`;

export interface StatusWriteOptions {
  /** Keep statuses of unknown wamids for later (false when they come from `pending_statuses`). */
  keepUnknown: boolean;
  now: string;
}

/** The statements that apply `events` (arrival order); empty when there is nothing to write. */
export function statusStatements(
  db: D1Database,
  events: readonly StatusEvent[],
  opts: StatusWriteOptions,
): D1PreparedStatement[] {
  if (events.length === 0) return [];
  const deltas = [...summariesByWamid(events)];
  const statements: D1PreparedStatement[] = [];
  for (const part of chunks(deltas)) {
    const rows = part.map(([wamid, d]) => [
      wamid,
      d.reached,
      d.sentAt,
      d.deliveredAt,
      d.readAt,
      d.failure?.at ?? null,
      d.failure?.code ?? null,
      d.failure?.title ?? null,
    ]);
    statements.push(db.prepare(MERGE_SQL).bind(JSON.stringify(rows)));
  }
  const priced = deltas.filter(([, d]) => d.route !== null).map(([wamid, d]) => [wamid, d.route, d.routeAt]);
  for (const part of chunks(priced)) {
    const json = JSON.stringify(part);
    statements.push(db.prepare(PRICING_SQL).bind(json, opts.now));
    statements.push(db.prepare(CONFIRMED_ROUTE_SQL).bind(json));
  }
  if (opts.keepUnknown) {
    for (const part of chunks([...events])) {
      statements.push(db.prepare(PENDING_SQL).bind(JSON.stringify(part), opts.now));
    }
  }
  return statements;
}

/** One multi-row upsert per chunk; events in arrival order (a tie in time goes to the later one). */
export function optOutStatements(
  db: D1Database,
  events: readonly OptOutEvent[],
  now: string,
): D1PreparedStatement[] {
  return chunks([...events]).map((part) =>
    db
      .prepare(OPT_OUT_SQL)
      .bind(JSON.stringify(part.map((e) => [e.wabaId, e.waId, e.optedOut ? 1 : 0, e.at])), now),
  );
}

/**
 * Applies the statuses kept for `wamids` now that a send recorded them (and forgets them), in one
 * read and one batch. Returns how many were applied.
 */
export async function applyPendingStatuses(
  env: Env,
  wamids: readonly string[],
  now: string,
): Promise<number> {
  if (wamids.length === 0) return 0;
  const statements: D1PreparedStatement[] = [];
  let applied = 0;
  for (const part of chunks([...wamids], 1000)) {
    const { results } = await env.DB.prepare(
      `SELECT id, payload FROM pending_statuses WHERE wamid IN (SELECT value FROM json_each(?1)) ORDER BY id`,
    )
      .bind(JSON.stringify(part))
      .all<{ id: number; payload: string }>();
    if (results.length === 0) continue;
    const events = results.flatMap((r) => {
      try {
        return [JSON.parse(r.payload) as StatusEvent];
      } catch {
        return [];
      }
    });
    applied += events.length;
    statements.push(...statusStatements(env.DB, events, { keepUnknown: false, now }));
    statements.push(
      env.DB.prepare("DELETE FROM pending_statuses WHERE id IN (SELECT value FROM json_each(?1))").bind(
        JSON.stringify(results.map((r) => r.id)),
      ),
    );
  }
  if (statements.length > 0) await env.DB.batch(statements);
  return applied;
}
