/**
 * Marketing opt-outs in the send path: a marketing message to a number that stopped marketing
 * messages for the WABA is not sent, it fails with Meta's own code for it. Checked when a job starts
 * and again as each block is claimed (sending/store.ts).
 */
import type { MessageRow } from "../db/schema";
import { optOutStatements } from "./apply";

export const OPT_OUT_CODE = 131050;
export const OPT_OUT_TITLE = "User has stopped marketing messages";

/** Meta's `wa_id` for a stored E.164 number. */
export function waIdOfE164(e164: string): string {
  return e164.replace(/^\+/, "");
}

/** The messages among `messages` whose number opted out of the WABA's marketing messages (a read). */
export async function optedOutMessages(
  env: Env,
  wabaId: string,
  messages: readonly MessageRow[],
): Promise<string[]> {
  if (messages.length === 0) return [];
  const { results } = await env.DB.prepare(
    `SELECT wa_id FROM marketing_opt_outs
     WHERE waba_id = ?1 AND opted_out = 1 AND wa_id IN (SELECT value FROM json_each(?2))`,
  )
    .bind(wabaId, JSON.stringify([...new Set(messages.map((m) => waIdOfE164(m.to)))]))
    .all<{ wa_id: string }>();
  if (results.length === 0) return [];
  const out = new Set(results.map((r) => r.wa_id));
  return messages.filter((m) => out.has(waIdOfE164(m.to))).map((m) => m.id);
}

/**
 * Fails with 131050 those of the messages `ids` (queued, not claimed) whose number opted out of the
 * WABA's marketing messages, in one statement that returns their ids: in each block's claim, and
 * when a job starts for the ones `optedOutMessages` found (a read first, so a job whose numbers did
 * not opt out writes nothing).
 */
export function failOptedOutStatement(
  db: D1Database,
  wabaId: string,
  ids: readonly string[],
  at: string,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE messages SET status = 'failed', error_code = ?1, error_title = ?2, failed_at = ?3
       WHERE id IN (SELECT value FROM json_each(?4)) AND status = 'queued' AND send_intent_at IS NULL
         AND EXISTS (SELECT 1 FROM marketing_opt_outs o
                     WHERE o.waba_id = ?5 AND o.wa_id = ltrim(messages."to", '+') AND o.opted_out = 1)
       RETURNING id`,
    )
    .bind(OPT_OUT_CODE, OPT_OUT_TITLE, at, JSON.stringify(ids), wabaId);
}

/** Statements that remember opt-outs Meta reported by refusing sends with 131050. */
export function recordOptOutStatements(
  db: D1Database,
  wabaId: string,
  numbers: readonly string[],
  at: string,
): D1PreparedStatement[] {
  return optOutStatements(
    db,
    numbers.map((to) => ({ wabaId, waId: waIdOfE164(to), optedOut: true, at })),
    at,
  );
}
