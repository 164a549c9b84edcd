import type { CampaignErrorRow, CampaignRow, CampaignTimelineRow, MessageRow } from "../db/schema";
import { confirmedRoutes, counts, funnel, rates, timeline, topErrors } from "./performance";

/** The public shape of a message (api.md "GET /v1/messages/{id}"). */
export function messageView(m: MessageRow) {
  return {
    id: m.id,
    campaignId: m.campaignId,
    to: m.to,
    status: m.status,
    route: m.route,
    routeReason: m.routeReason,
    confirmedRoute: m.confirmedRoute ?? null,
    wamid: m.wamid ?? null,
    error: m.errorCode !== null || m.errorTitle !== null ? { code: m.errorCode, title: m.errorTitle } : null,
    acceptedAt: m.acceptedAt ?? null,
    sentAt: m.sentAt ?? null,
    deliveredAt: m.deliveredAt ?? null,
    readAt: m.readAt ?? null,
    failedAt: m.failedAt ?? null,
  };
}

/** The public status: `draft` is internal (intake in progress) and never shown. */
function publicStatus(status: CampaignRow["status"]): "sending" | "completed" | "cancelled" {
  return status === "draft" ? "sending" : status;
}

/** A campaign as listed (api.md: the campaign's fields without `timeline` and `errors`, plus `type`). */
export function campaignListItem(c: CampaignRow) {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    status: publicStatus(c.status),
    createdAt: c.createdAt,
    completedAt: c.completedAt ?? null,
    template: { name: c.templateName, language: c.templateLanguage, category: c.templateCategory },
    route: c.route,
    routeReason: c.routeReason,
    total: c.total,
    invalid: c.invalid,
    duplicates: c.duplicates,
    counts: counts(c),
    funnel: funnel(c),
    rates: rates(c),
    confirmedRoutes: confirmedRoutes(c),
  };
}

export function campaignView(
  c: CampaignRow,
  errorRows: CampaignErrorRow[],
  timelineRows: CampaignTimelineRow[],
) {
  return { ...campaignListItem(c), errors: topErrors(errorRows), timeline: timeline(timelineRows) };
}
