import type { CampaignRow } from "../db/schema";
import { log } from "../lib/log";

/**
 * Writes an audience into D1 as it streams in: multi-row inserts that carry a whole chunk as one
 * JSON parameter (D1 allows 100 bound parameters per statement; `json_each` sidesteps that), with
 * duplicates dropped by the unique (campaign_id, to) index and counted from the rows not inserted.
 * Nothing is held beyond the chunk being written.
 */
export interface AudienceRow {
  /** Line number in the file (header = 1) or 0-based index of a JSON audience. */
  row: number;
  to: string;
  params: string[];
  invalid: null | "invalid_phone" | "template_params_mismatch";
}

export interface InvalidRow {
  row: number;
  value: string;
  reason: string;
}

export interface IntakeResult {
  total: number;
  invalid: number;
  duplicates: number;
  /** The first 100 rejected rows. */
  invalidRows: InvalidRow[];
  /** Seqs run from 0 to `lastSeq` (inclusive); -1 when nothing was written. */
  lastSeq: number;
}

const INVALID_ROWS_SHOWN = 100;
/** A value written as given for an invalid row is cut here: it is shown, never sent. */
const MAX_RAW_VALUE = 64;

export async function writeAudience(
  db: D1Database,
  campaign: CampaignRow,
  chunks: AsyncIterable<AudienceRow[]>,
  now: string,
): Promise<IntakeResult> {
  const insert = db.prepare(
    `INSERT INTO messages (id, campaign_id, bot_id, seq, "to", params, route, route_reason, status, error_title, attempts, created_at)
     SELECT ?1 || json_extract(j.value, '$[0]'), ?2, ?3, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'),
            json_extract(j.value, '$[2]'), ?4, ?5, json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), 0, ?6
     FROM json_each(?7) AS j WHERE true
     ON CONFLICT DO NOTHING`,
  );
  const idPrefix = `msg_${campaign.id.slice(4)}_`;
  const result: IntakeResult = { total: 0, invalid: 0, duplicates: 0, invalidRows: [], lastSeq: -1 };
  let seq = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    let valid = 0;
    const rows = chunk.map((r) => {
      if (r.invalid) {
        result.invalid += 1;
        const value = r.to.slice(0, MAX_RAW_VALUE);
        if (result.invalidRows.length < INVALID_ROWS_SHOWN)
          result.invalidRows.push({ row: r.row, value, reason: r.invalid });
        return [seq++, value, JSON.stringify(r.params), "invalid", r.invalid];
      }
      valid += 1;
      return [seq++, r.to, JSON.stringify(r.params), "queued", null];
    });
    const written = await insert
      .bind(
        idPrefix,
        campaign.id,
        campaign.botId,
        campaign.route,
        campaign.routeReason,
        now,
        JSON.stringify(rows),
      )
      .run();
    const invalidInChunk = chunk.length - valid;
    const insertedValid = written.meta.changes - invalidInChunk;
    result.total += insertedValid;
    result.duplicates += valid - insertedValid;
  }
  result.lastSeq = seq - 1;
  log.info("audience_written", { campaignId: campaign.id, total: result.total, invalid: result.invalid });
  return result;
}

/** Remove a campaign whose intake failed, so nothing half-written stays behind. */
export async function discardCampaign(db: D1Database, campaignId: string): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM messages WHERE campaign_id = ?").bind(campaignId),
    db.prepare("DELETE FROM campaigns WHERE id = ? AND status = 'draft'").bind(campaignId),
  ]);
}
