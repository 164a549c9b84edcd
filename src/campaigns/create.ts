import { getConfig } from "../config";
import { syncWindowFor } from "../connections/window";
import { db } from "../db/client";
import { type BotRow, type CampaignRow, campaigns } from "../db/schema";
import type { WriteResult } from "../http/idempotency";
import { AppError } from "../lib/errors";
import { isoNow } from "../lib/time";
import { approvedTemplate, decideRoute } from "../routing/service";
import type { RequestedRoute, TemplateInfo } from "../routing/types";
import type { QueueJob } from "../sending/jobs";
import { flush, stageMany } from "../sending/outbox";
import { type AudienceRow, discardCampaign, type IntakeResult, writeAudience } from "./intake";
import { newCampaign } from "./rows";
import { campaignListItem } from "./views";

export interface CampaignRequest {
  name: string;
  template: { name: string; language: string };
  route: RequestedRoute;
}

/** Where the audience comes from; opened only after the template and route are settled. */
export type AudienceSource = (opts: {
  defaultRegion: string;
  paramCount: number;
}) => AsyncIterable<AudienceRow[]>;

/**
 * One send job covers about a second of the number's throughput (at most 500 recipients), so a
 * consumer holds a job for about a second, progress is recorded every second, and a cancel takes
 * effect within one.
 */
export function jobSize(throughputMps: number): number {
  return Math.min(500, Math.max(1, throughputMps));
}

export function fanOut(campaign: CampaignRow, lastSeq: number, size: number): QueueJob[] {
  const jobs: QueueJob[] = [];
  for (let from = 0; from <= lastSeq; from += size) {
    jobs.push({
      v: 1,
      kind: "send_range",
      campaignId: campaign.id,
      botId: campaign.botId,
      fromSeq: from,
      toSeq: Math.min(lastSeq, from + size - 1),
    });
  }
  return jobs;
}

/**
 * A bulk campaign: template and route are checked and decided once, before the audience is read;
 * the audience is streamed into D1 under a `draft` campaign; then one atomic batch makes it
 * `sending` and stages its send jobs. If anything fails on the way, the draft is removed.
 */
export async function createCampaign(
  env: Env,
  bot: BotRow,
  req: CampaignRequest,
  audience: AudienceSource,
): Promise<WriteResult> {
  const template: TemplateInfo = await approvedTemplate(env, bot.wabaId, req.template, null);
  const decision = await decideRoute(env, template, {
    wabaId: bot.wabaId,
    requestedRoute: req.route,
    botRestricted: bot.mmLiteRestricted,
    syncPendingUntil: await syncWindowFor(env, bot, template),
  });
  const now = isoNow();
  const campaign = newCampaign({
    botId: bot.id,
    name: req.name,
    type: "batch",
    template,
    decision,
    status: "draft",
    now,
  });
  const d = db(env);
  await d.insert(campaigns).values(campaign);

  let intake: IntakeResult;
  try {
    const rows = audience({
      defaultRegion: getConfig(env).DEFAULT_PHONE_REGION,
      paramCount: template.paramCount,
    });
    intake = await writeAudience(env.DB, campaign, rows, now);
    if (intake.total === 0) {
      throw new AppError(422, "empty_audience", "Empty audience", {
        detail:
          intake.invalid > 0
            ? `No valid recipient: all ${intake.invalid} row(s) were rejected`
            : "The audience has no recipient",
        extra: { invalidRows: intake.invalidRows },
      });
    }
  } catch (err) {
    await discardCampaign(env.DB, campaign.id);
    throw err;
  }

  const started: CampaignRow = {
    ...campaign,
    type: intake.total + intake.invalid === 1 ? "individual" : "batch",
    status: "sending",
    total: intake.total,
    invalid: intake.invalid,
    duplicates: intake.duplicates,
    countQueued: intake.total,
    countInvalid: intake.invalid,
  };
  const [staged, stageStatements] = stageMany(
    env.DB,
    fanOut(started, intake.lastSeq, jobSize(bot.throughputMps)),
  );
  return {
    answer: {
      status: 202,
      body: {
        ...campaignListItem(started),
        invalidRows: intake.invalidRows,
      },
    },
    writes: [
      env.DB.prepare(
        `UPDATE campaigns SET status = 'sending', type = ?, total = ?, invalid = ?, duplicates = ?,
           count_queued = ?, count_invalid = ? WHERE id = ? AND status = 'draft'`,
      ).bind(
        started.type,
        started.total,
        started.invalid,
        started.duplicates,
        started.total,
        started.invalid,
        started.id,
      ),
      ...stageStatements,
    ],
    afterCommit: () => flush(env, staged),
  };
}
