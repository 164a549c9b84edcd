import { and, asc, count, desc, eq, ne } from "drizzle-orm";
import { findCampaign } from "../campaigns/queries";
import { campaignListItem, messageView } from "../campaigns/views";
import { db } from "../db/client";
import { campaigns, messages } from "../db/schema";

/**
 * The two reads the /v1 API pages differently: the command API pages with `$skip` / `$take` and
 * answers a `total`, so these offset queries sit beside the /v1 cursor ones. Rows become the same
 * views (`campaignListItem`, `messageView`); scoping to the bot is the same (`findCampaign`).
 */

/** The bot's campaigns, newest first, with the count of all of them. */
export async function campaignPage(env: Env, botId: string, skip: number, take: number) {
  const d = db(env);
  const mine = and(eq(campaigns.botId, botId), ne(campaigns.status, "draft"));
  const [rows, totals] = await Promise.all([
    d.select().from(campaigns).where(mine).orderBy(desc(campaigns.id)).limit(take).offset(skip).all(),
    d.select({ n: count() }).from(campaigns).where(mine).all(),
  ]);
  return { total: totals[0]?.n ?? 0, items: rows.map(campaignListItem) };
}

/** One page of a campaign's recipients in audience order (404 when it is not the bot's). */
export async function reportPage(env: Env, botId: string, campaignId: string, skip: number, take: number) {
  const campaign = await findCampaign(env, botId, campaignId);
  const rows = await db(env)
    .select()
    .from(messages)
    .where(eq(messages.campaignId, campaign.id))
    .orderBy(asc(messages.seq))
    .limit(take)
    .offset(skip)
    .all();
  // Every recipient kept: the valid, de-duplicated ones and the rows refused at intake.
  return { total: campaign.total + campaign.invalid, items: rows.map(messageView) };
}
