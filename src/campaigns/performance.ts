import type { CampaignErrorRow, CampaignRow, CampaignTimelineRow } from "../db/schema";

/**
 * Report maths (pure): the counters D1 keeps incrementally become api.md's `counts`, `funnel`,
 * `rates`, `confirmedRoutes`, `errors` and `timeline`.
 */
export function counts(c: CampaignRow) {
  return {
    queued: c.countQueued,
    accepted: c.countAccepted,
    sent: c.countSent,
    delivered: c.countDelivered,
    read: c.countRead,
    failed: c.countFailed,
    cancelled: c.countCancelled,
    invalid: c.countInvalid,
  };
}

export function funnel(c: CampaignRow) {
  return {
    accepted: c.funnelAccepted,
    sent: c.funnelSent,
    delivered: c.funnelDelivered,
    read: c.funnelRead,
  };
}

const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);

export function rates(c: CampaignRow) {
  return {
    delivery: ratio(c.funnelDelivered, c.funnelAccepted),
    read: ratio(c.funnelRead, c.funnelDelivered),
    failure: ratio(c.countFailed, c.total),
  };
}

export function confirmedRoutes(c: CampaignRow) {
  return { mm_lite: c.confirmedMmLite, cloud_api: c.confirmedCloudApi };
}

/** Most frequent first (ties: lower code first), at most 10, empty buckets left out. */
export function topErrors(rows: CampaignErrorRow[], limit = 10) {
  return rows
    .filter((r) => r.count > 0)
    .sort((a, b) => b.count - a.count || a.code - b.code)
    .slice(0, limit)
    .map((r) => ({ code: r.code === -1 ? null : r.code, title: r.title, count: r.count }));
}

export function timeline(rows: CampaignTimelineRow[]) {
  return [...rows]
    .sort((a, b) => (a.minute < b.minute ? -1 : a.minute > b.minute ? 1 : 0))
    .map((r) => ({
      at: r.minute,
      accepted: r.accepted,
      sent: r.sent,
      delivered: r.delivered,
      read: r.read,
      failed: r.failed,
    }));
}
