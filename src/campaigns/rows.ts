import type { CampaignRow } from "../db/schema";
import { newId } from "../lib/ids";
import type { RouteDecision, TemplateInfo } from "../routing/types";

/** A campaign row with every live counter at zero; intake sets the initial queued / invalid counts. */
export function newCampaign(fields: {
  botId: string;
  name: string;
  type: CampaignRow["type"];
  template: TemplateInfo;
  decision: RouteDecision;
  status: CampaignRow["status"];
  now: string;
}): CampaignRow {
  return {
    id: newId("cmp"),
    botId: fields.botId,
    name: fields.name,
    type: fields.type,
    templateName: fields.template.name,
    templateLanguage: fields.template.language,
    templateCategory: fields.template.category,
    route: fields.decision.route,
    routeReason: fields.decision.reason,
    status: fields.status,
    total: 0,
    invalid: 0,
    duplicates: 0,
    createdAt: fields.now,
    completedAt: null,
    countQueued: 0,
    countAccepted: 0,
    countSent: 0,
    countDelivered: 0,
    countRead: 0,
    countFailed: 0,
    countCancelled: 0,
    countInvalid: 0,
    funnelAccepted: 0,
    funnelSent: 0,
    funnelDelivered: 0,
    funnelRead: 0,
    confirmedMmLite: 0,
    confirmedCloudApi: 0,
  };
}
