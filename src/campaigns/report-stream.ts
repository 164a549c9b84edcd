import { REPORT_HEADER_LINE, type ReportRow, reportLine } from "./report";

/** Rows read per D1 query while streaming: bounded memory whatever the audience size. */
const PAGE = 1000;

interface Row {
  seq: number;
  to: string;
  status: ReportRow["status"];
  route: ReportRow["route"];
  route_reason: ReportRow["routeReason"];
  confirmed_route: ReportRow["confirmedRoute"];
  wamid: string | null;
  error_code: number | null;
  error_title: string | null;
  accepted_at: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  read_at: string | null;
  failed_at: string | null;
}

/**
 * The report as a byte stream, read page by page in audience order (keyset paging on seq), each
 * page pulled only when the client has taken the previous one.
 */
export function reportStream(db: D1Database, campaignId: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after = -1;
  let headerSent = false;
  const page = db.prepare(
    `SELECT seq, "to", status, route, route_reason, confirmed_route, wamid, error_code, error_title,
            accepted_at, sent_at, delivered_at, read_at, failed_at
     FROM messages WHERE campaign_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
  );
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(REPORT_HEADER_LINE));
          return;
        }
        const { results } = await page.bind(campaignId, after, PAGE).all<Row>();
        if (results.length === 0) {
          controller.close();
          return;
        }
        let text = "";
        for (const r of results) {
          text += reportLine({
            to: r.to,
            status: r.status,
            route: r.route,
            routeReason: r.route_reason,
            confirmedRoute: r.confirmed_route,
            wamid: r.wamid,
            errorCode: r.error_code,
            errorTitle: r.error_title,
            acceptedAt: r.accepted_at,
            sentAt: r.sent_at,
            deliveredAt: r.delivered_at,
            readAt: r.read_at,
            failedAt: r.failed_at,
          });
        }
        after = (results[results.length - 1] as Row).seq;
        controller.enqueue(encoder.encode(text));
        if (results.length < PAGE) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
