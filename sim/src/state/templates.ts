// Template records: turning control-API input into what Meta stores, counting body placeholders, and
// the Graph view with Meta-style cursor paging.
import type { TemplateInput } from "../control/schemas";
import { type GraphOutcome, graphError } from "../graph/errors";
import { numericId } from "../ids";
import type { TemplateRecord } from "../types";

/** Distinct {{1}} / {{name}} placeholders; a send must supply one body parameter for each. */
export function countParams(text: string | undefined): number {
  if (!text) return 0;
  const names = new Set<string>();
  for (const m of text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)) names.add(m[1] as string);
  return names.size;
}

export function bodyText(components: Record<string, unknown>[]): string | undefined {
  const body = components.find((c) => String(c.type).toUpperCase() === "BODY");
  return typeof body?.text === "string" ? body.text : undefined;
}

export function toTemplateRecord(
  wabaId: string,
  input: TemplateInput,
  existing?: TemplateRecord,
): TemplateRecord {
  const components =
    input.components ?? (input.bodyText !== undefined ? [{ type: "BODY", text: input.bodyText }] : undefined);
  const finalComponents = components ?? existing?.components ?? [];
  return {
    seq: existing?.seq ?? 0,
    id: input.id ?? existing?.id ?? numericId(),
    wabaId,
    name: input.name,
    language: input.language,
    status: input.status,
    category: input.category,
    previousCategory:
      existing && existing.category !== input.category ? existing.category : existing?.previousCategory,
    components: finalComponents,
    paramCount: countParams(bodyText(finalComponents)),
  };
}

const TEMPLATE_FIELDS = new Set([
  "id",
  "name",
  "language",
  "status",
  "category",
  "components",
  "parameter_format",
  "previous_category",
]);
/** What Meta returns when `fields` is not given. */
const DEFAULT_FIELDS = ["name", "parameter_format", "components", "language", "status", "category", "id"];

function view(t: TemplateRecord, fields: string[]): Record<string, unknown> {
  const all: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    language: t.language,
    status: t.status,
    category: t.category,
    components: t.components,
    parameter_format: /\{\{\s*\d+\s*\}\}/.test(bodyText(t.components) ?? "{{1}}") ? "POSITIONAL" : "NAMED",
    previous_category: t.previousCategory,
  };
  const out: Record<string, unknown> = {};
  for (const f of fields) if (all[f] !== undefined) out[f] = all[f];
  // Graph always returns the node id.
  out.id = t.id;
  return out;
}

const encodeCursor = (seq: number) => btoa(`tpl:${seq}`).replace(/=+$/, "");
function decodeCursor(c: string): number | null {
  try {
    const m = /^tpl:(\d+)$/.exec(atob(c));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * GET /{waba}/message_templates. Filters (name, language, status, category) are exact matches; Meta's
 * own `name` filter is looser (substring), so gateways must still compare names exactly.
 */
export function templatesPage(
  all: TemplateRecord[],
  query: URLSearchParams,
  requestUrl: string,
): GraphOutcome {
  const fields = query.get("fields")
    ? (query.get("fields") as string).split(",").map((f) => f.trim())
    : DEFAULT_FIELDS;
  const bad = fields.find((f) => !TEMPLATE_FIELDS.has(f));
  if (bad)
    return graphError(100, {
      message: `(#100) Tried accessing nonexisting field (${bad}) on node type (WhatsAppBusinessMessageTemplate)`,
      plain: true,
    });
  const limitRaw = query.get("limit");
  const limit = limitRaw === null ? 25 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    return graphError(100, {
      message: "(#100) Param limit must be a number between 1 and 1000",
      plain: true,
    });

  const filtered = all.filter(
    (t) =>
      (!query.get("name") || t.name === query.get("name")) &&
      (!query.get("language") || t.language === query.get("language")) &&
      (!query.get("status") || t.status === query.get("status")?.toUpperCase()) &&
      (!query.get("category") || t.category === query.get("category")?.toUpperCase()),
  );
  let start = 0;
  let end = Math.min(filtered.length, limit);
  const after = query.get("after");
  const before = query.get("before");
  if (after !== null || before !== null) {
    const seq = decodeCursor((after ?? before) as string);
    if (seq === null) return graphError(100, { message: "(#100) Invalid cursor", plain: true });
    if (after !== null) {
      start = filtered.findIndex((t) => t.seq > seq);
      if (start < 0) start = filtered.length;
      end = Math.min(filtered.length, start + limit);
    } else {
      end = filtered.findIndex((t) => t.seq >= seq);
      if (end < 0) end = filtered.length;
      start = Math.max(0, end - limit);
    }
  }
  const page = filtered.slice(start, end);
  if (page.length === 0) return { status: 200, body: { data: [] } };

  const first = encodeCursor((page[0] as TemplateRecord).seq);
  const last = encodeCursor((page[page.length - 1] as TemplateRecord).seq);
  const link = (key: "after" | "before", cursor: string) => {
    const u = new URL(requestUrl);
    u.searchParams.delete("after");
    u.searchParams.delete("before");
    u.searchParams.set(key, cursor);
    return u.toString();
  };
  const paging: Record<string, unknown> = { cursors: { before: first, after: last } };
  if (start > 0) paging.previous = link("before", first);
  if (end < filtered.length) paging.next = link("after", last);
  return { status: 200, body: { data: page.map((t) => view(t, fields)), paging } };
}
