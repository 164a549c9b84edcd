import { and, desc, eq, lt, ne } from "drizzle-orm";
import { db } from "../db/client";
import { type CampaignRow, campaignErrors, campaigns, campaignTimeline } from "../db/schema";
import { AppError, errors } from "../lib/errors";
import { isoNow } from "../lib/time";
import { campaignListItem, campaignView } from "./views";

/** Read side of campaigns, always scoped to one bot (another bot's campaign is a 404). */

export async function findCampaign(env: Env, botId: string, id: string): Promise<CampaignRow> {
  const row = await db(env)
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.id, id), eq(campaigns.botId, botId), ne(campaigns.status, "draft")))
    .get();
  if (!row) throw errors.notFound("Campaign");
  return row;
}

export async function campaignDetail(env: Env, botId: string, id: string) {
  const campaign = await findCampaign(env, botId, id);
  const d = db(env);
  const [errorRows, timelineRows] = await Promise.all([
    d.select().from(campaignErrors).where(eq(campaignErrors.campaignId, id)).all(),
    d.select().from(campaignTimeline).where(eq(campaignTimeline.campaignId, id)).all(),
  ]);
  return campaignView(campaign, errorRows, timelineRows);
}

/** Newest first; the cursor is the last id of the previous page (ids sort by creation time). */
export async function listCampaigns(env: Env, botId: string, limit: number, cursor: string | undefined) {
  const rows = await db(env)
    .select()
    .from(campaigns)
    .where(
      and(
        eq(campaigns.botId, botId),
        ne(campaigns.status, "draft"),
        cursor ? lt(campaigns.id, cursor) : undefined,
      ),
    )
    .orderBy(desc(campaigns.id))
    .limit(limit + 1)
    .all();
  const page = rows.slice(0, limit);
  return {
    items: page.map(campaignListItem),
    nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

/** Rows per statement when cancelling: bounded work per statement even for huge audiences. */
const CANCEL_SLICE = 5_000;

/**
 * Cancel: the campaign stops claiming (the consumer's claim requires `sending`), and every message
 * still queued without a send intent becomes `cancelled`. Messages already in flight finish.
 */
export async function cancelCampaign(env: Env, botId: string, id: string) {
  const campaign = await findCampaign(env, botId, id);
  if (campaign.status === "completed") {
    throw new AppError(409, "campaign_not_cancellable", "Campaign is already completed", {
      detail: `Campaign ${id} completed at ${campaign.completedAt}`,
    });
  }
  const now = isoNow();
  if (campaign.status === "sending") {
    await env.DB.prepare(
      "UPDATE campaigns SET status = 'cancelled', completed_at = ? WHERE id = ? AND status = 'sending'",
    )
      .bind(now, id)
      .run();
  }
  const { maxSeq } = (await env.DB.prepare(
    "SELECT COALESCE(MAX(seq), -1) AS maxSeq FROM messages WHERE campaign_id = ?",
  )
    .bind(id)
    .first<{ maxSeq: number }>()) ?? { maxSeq: -1 };
  const slices: D1PreparedStatement[] = [];
  for (let from = 0; from <= maxSeq; from += CANCEL_SLICE) {
    slices.push(
      env.DB.prepare(
        `UPDATE messages SET status = 'cancelled'
         WHERE campaign_id = ? AND seq BETWEEN ? AND ? AND status = 'queued' AND send_intent_at IS NULL`,
      ).bind(id, from, from + CANCEL_SLICE - 1),
    );
  }
  for (let i = 0; i < slices.length; i += 20) await env.DB.batch(slices.slice(i, i + 20));
  return campaignDetail(env, botId, id);
}
