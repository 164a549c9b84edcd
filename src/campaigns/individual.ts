import { getConfig } from "../config";
import { syncWindowFor } from "../connections/window";
import { db, statement } from "../db/client";
import { type BotRow, type CampaignRow, campaigns, type MessageRow, messages } from "../db/schema";
import type { WriteResult } from "../http/idempotency";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { isoNow } from "../lib/time";
import { normalizePhone } from "../phone";
import { approvedTemplate, decideRoute } from "../routing/service";
import type { RequestedRoute } from "../routing/types";
import { flush, stage } from "../sending/outbox";
import { newCampaign } from "./rows";

export interface IndividualSend {
  to: string;
  template: { name: string; language: string; params?: string[]; components?: Record<string, unknown>[] };
  route: RequestedRoute;
}

/** Parameters a send carries: the `params` list, or the body parameters of Meta-format components. */
export function paramCountOf(template: IndividualSend["template"]): number {
  if (template.components) {
    const body = template.components.find((c) => String(c.type).toLowerCase() === "body");
    return Array.isArray(body?.parameters) ? body.parameters.length : 0;
  }
  return template.params?.length ?? 0;
}

/**
 * An individual active message is a one-recipient campaign: validated and routed now, sent by the
 * queue consumer. Template and number problems are refused here (422), before anything is written.
 */
export async function sendIndividual(env: Env, bot: BotRow, input: IndividualSend): Promise<WriteResult> {
  // Order of checks (api.md): the template first, then the number, then the routing steps — so a
  // bad request never costs a Meta status query.
  const template = await approvedTemplate(env, bot.wabaId, input.template, paramCountOf(input.template));
  const phone = normalizePhone(input.to, getConfig(env).DEFAULT_PHONE_REGION);
  if (!phone.ok) {
    throw new AppError(422, "invalid_phone", "Invalid phone number", {
      detail: "The number is not a valid phone number in E.164 or of the default region",
    });
  }
  const decision = await decideRoute(env, template, {
    wabaId: bot.wabaId,
    requestedRoute: input.route,
    botRestricted: bot.mmLiteRestricted,
    syncPendingUntil: await syncWindowFor(env, bot, template),
  });

  const now = isoNow();
  const campaign: CampaignRow = {
    ...newCampaign({
      botId: bot.id,
      name: `${template.name} → ${phone.e164}`,
      type: "individual",
      template,
      decision,
      status: "sending",
      now,
    }),
    total: 1,
    countQueued: 1,
  };
  const message: MessageRow = {
    id: newId("msg"),
    campaignId: campaign.id,
    botId: bot.id,
    seq: 0,
    to: phone.e164,
    params: input.template.components ? null : JSON.stringify(input.template.params ?? []),
    components: input.template.components ? JSON.stringify(input.template.components) : null,
    route: decision.route,
    routeReason: decision.reason,
    status: "queued",
    sendIntentAt: null,
    attempts: 0,
    wamid: null,
    confirmedRoute: null,
    errorCode: null,
    errorTitle: null,
    acceptedAt: null,
    sentAt: null,
    deliveredAt: null,
    readAt: null,
    failedAt: null,
    createdAt: now,
  };
  const d = db(env);
  const [job, stageJob] = stage(env.DB, {
    v: 1,
    kind: "send",
    campaignId: campaign.id,
    botId: bot.id,
    messageIds: [message.id],
  });
  return {
    answer: {
      status: 202,
      body: {
        id: message.id,
        campaignId: campaign.id,
        to: message.to,
        status: message.status,
        route: message.route,
        routeReason: message.routeReason,
      },
    },
    writes: [
      statement(env.DB, d.insert(campaigns).values(campaign)),
      statement(env.DB, d.insert(messages).values(message)),
      stageJob,
    ],
    afterCommit: () => flush(env, [job]),
  };
}
