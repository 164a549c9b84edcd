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

/** The messages among `messages` whose number opted out of the WABA's marketing messages. */
export async function optedOutMessages(
  env: Env,
  wabaId: string,
  messages: readonly MessageRow[],
): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const { results } = await env.DB.prepare(
    `SELECT wa_id FROM marketing_opt_outs
     WHERE waba_id = ?1 AND opted_out = 1 AND wa_id IN (SELECT value FROM json_each(?2))`,
  )
    .bind(wabaId, JSON.stringify([...new Set(messages.map((m) => waIdOfE164(m.to)))]))
    .all<{ wa_id: string }>();
  if (results.length === 0) return new Set();
  const out = new Set(results.map((r) => r.wa_id));
  return new Set(messages.filter((m) => out.has(waIdOfE164(m.to))).map((m) => m.id));
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
