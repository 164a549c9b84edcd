import type { MessageRow } from "../db/schema";

/**
 * The per-recipient report (pure): RFC 4180 CSV (CRLF line ends, quotes doubled, a field quoted
 * when it holds a quote, separator or line break), ISO times, empty cells for nulls, and cells
 * that a spreadsheet would run as a formula neutralised with a leading `'` — except a valid E.164
 * phone, whose `+` is its own.
 */
export const REPORT_HEADER = [
  "phone",
  "status",
  "route",
  "route_reason",
  "confirmed_route",
  "wamid",
  "error_code",
  "error_title",
  "accepted_at",
  "sent_at",
  "delivered_at",
  "read_at",
  "failed_at",
] as const;

const E164 = /^\+[1-9]\d{6,14}$/;
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvCell(
  value: string | number | null | undefined,
  column?: (typeof REPORT_HEADER)[number],
): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (FORMULA_START.test(text) && !(column === "phone" && E164.test(text))) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export type ReportRow = Pick<
  MessageRow,
  | "to"
  | "status"
  | "route"
  | "routeReason"
  | "confirmedRoute"
  | "wamid"
  | "errorCode"
  | "errorTitle"
  | "acceptedAt"
  | "sentAt"
  | "deliveredAt"
  | "readAt"
  | "failedAt"
>;

export function reportLine(m: ReportRow): string {
  const cells: [string | number | null, (typeof REPORT_HEADER)[number]][] = [
    [m.to, "phone"],
    [m.status, "status"],
    [m.route, "route"],
    [m.routeReason, "route_reason"],
    [m.confirmedRoute, "confirmed_route"],
    [m.wamid, "wamid"],
    [m.errorCode, "error_code"],
    [m.errorTitle, "error_title"],
    [m.acceptedAt, "accepted_at"],
    [m.sentAt, "sent_at"],
    [m.deliveredAt, "delivered_at"],
    [m.readAt, "read_at"],
    [m.failedAt, "failed_at"],
  ];
  return `${cells.map(([v, col]) => csvCell(v, col)).join(",")}\r\n`;
}

export const REPORT_HEADER_LINE = `${REPORT_HEADER.join(",")}\r\n`;
