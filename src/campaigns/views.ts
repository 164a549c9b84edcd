import type { MessageRow } from "../db/schema";

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
