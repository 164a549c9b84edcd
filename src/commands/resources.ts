import type { campaignListItem, messageView } from "../campaigns/views";
import type { ProblemBody } from "../lib/errors";
import { REASON } from "./envelope";

/**
 * The /v1 views in the command API's vocabulary (pure). The platform's own campaign resource says
 * `campaignType`, `messageTemplate`, `channelType`, `created` and `isToUseLiteApi` (the shape the
 * Andrevlopess/blip-api-client SDK reads); the gateway adds its route decision and counters.
 */

type CampaignItem = ReturnType<typeof campaignListItem> & {
  invalidRows?: unknown;
  errors?: unknown;
  timeline?: unknown;
};

export function campaignResource(c: CampaignItem) {
  return {
    id: c.id,
    name: c.name,
    // Stored type, written as requests write it: a one-recipient Batch is reported as Individual
    // (api.md: one recipient = "individual").
    campaignType: c.type === "individual" ? "Individual" : "Batch",
    status: c.status,
    channelType: "WhatsApp",
    messageTemplate: c.template.name,
    messageTemplateLanguage: c.template.language,
    templateCategory: c.template.category,
    created: c.createdAt,
    completed: c.completedAt,
    isToUseLiteApi: c.route === "mm_lite",
    route: c.route,
    routeReason: c.routeReason,
    total: c.total,
    invalid: c.invalid,
    duplicates: c.duplicates,
    counts: c.counts,
    funnel: c.funnel,
    rates: c.rates,
    confirmedRoutes: c.confirmedRoutes,
    ...(c.invalidRows !== undefined ? { invalidRows: c.invalidRows } : {}),
    ...(c.errors !== undefined ? { errors: c.errors } : {}),
    ...(c.timeline !== undefined ? { timeline: c.timeline } : {}),
  };
}

/** `get /campaigns/{id}/summaries`: the campaign's counters (api.md: `counts`, `funnel`, `rates`). */
export function summaryResource(c: CampaignItem) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    messageTemplate: c.template.name,
    sendDate: c.createdAt,
    total: c.total,
    invalid: c.invalid,
    counts: c.counts,
    funnel: c.funnel,
    rates: c.rates,
    confirmedRoutes: c.confirmedRoutes,
  };
}

export function reportItem(m: ReturnType<typeof messageView>) {
  return {
    recipient: m.to,
    status: m.status,
    route: m.route,
    routeReason: m.routeReason,
    confirmedRoute: m.confirmedRoute,
    messageId: m.id,
    wamid: m.wamid,
    error: m.error,
    acceptedAt: m.acceptedAt,
    sentAt: m.sentAt,
    deliveredAt: m.deliveredAt,
    readAt: m.readAt,
    failedAt: m.failedAt,
  };
}

export function collection<T>(itemType: string, total: number, items: T[]) {
  return { itemType, total, items };
}

const MAX_DESCRIPTION = 2_000;

/**
 * A refusal of the /v1 use cases (a problem body, first time or replayed) as a failure reason:
 * 404 → 67 (not found); 400 / 422 → 11 (invalid resource: template, parameters, numbers, empty
 * audience); anything else (Meta unavailable, a reused command id) → 1.
 */
export function reasonFromProblem(p: ProblemBody, commandId: string | number | undefined) {
  const code =
    p.status === 404
      ? REASON.notFound
      : p.status === 400 || p.status === 422
        ? REASON.invalidResource
        : REASON.general;
  let description = p.detail ?? p.title;
  if (p.code === "idempotency_conflict") {
    description = `Command id ${JSON.stringify(commandId)} was already used (within 24 h) for a different command; send it with a new id`;
  } else if (p.code === "idempotency_in_progress") {
    description = `A command with id ${JSON.stringify(commandId)} is still being processed; retry shortly`;
  }
  const parts = [`${description} (${p.code})`];
  if (p.errors && p.errors.length > 0) {
    parts.push(p.errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  }
  const rows = p.invalidRows;
  if (Array.isArray(rows) && rows.length > 0) {
    const shown = rows
      .slice(0, 5)
      .map((r: { row: number; value: string; reason: string }) => `#${r.row} ${r.value}: ${r.reason}`);
    parts.push(`rejected: ${shown.join(", ")}${rows.length > 5 ? ", …" : ""}`);
  }
  const text = parts.join(" — ");
  return {
    code,
    description: text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text,
  };
}
