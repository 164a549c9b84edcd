/**
 * Reading Meta's webhook notifications (meta-platform.md "Webhooks"), pure. A signed body can still
 * be any JSON at all: everything here takes `unknown`, skips what it cannot use, and never throws.
 * Only the paths it needs are walked (no recursion), so a deeply nested body costs nothing.
 */
import { routeFromPricingCategory, type StatusEvent, type WebhookStatus } from "./status-machine";

export interface TemplateEvent {
  wabaId: string;
  name: string;
  language: string;
  /** `message_template_status_update`: the template's new status (`event`). */
  status: string | null;
  /** `template_category_update`: the template's new category. */
  category: string | null;
}

export interface OptOutEvent {
  wabaId: string;
  /** Digits only, as Meta's `wa_id`. */
  waId: string;
  optedOut: boolean;
  at: string;
}

export interface Notification {
  statuses: StatusEvent[];
  templates: TemplateEvent[];
  /** WABAs that signed the MM Lite terms (`account_update` `MM_LITE_TERMS_SIGNED`). */
  termsSigned: string[];
  optOuts: OptOutEvent[];
}

export const EMPTY_NOTIFICATION: Notification = { statuses: [], templates: [], termsSigned: [], optOuts: [] };

const WEBHOOK_STATUSES = new Set<string>(["sent", "delivered", "read", "failed"]);
/** Longest string kept from a webhook field (titles, names); more is cut. */
const MAX_TEXT = 512;
/** Latest time accepted (year 9999); a larger `timestamp` is not a time. */
const MAX_UNIX_SECONDS = 253_402_300_799;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Unpaired UTF-16 surrogates: valid in a JS string, not in UTF-8 (D1's JSON functions). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(v: unknown, max = MAX_TEXT): string | null {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string") return null;
  const t = v.trim().slice(0, max).replace(LONE_SURROGATE, "\uFFFD");
  return t.length === 0 ? null : t;
}

/** An id Meta uses for WABAs (digits); anything else is not a WABA this gateway can know. */
function wabaIdOf(v: unknown): string | null {
  const t = text(v, 64);
  return t !== null && /^\d{1,30}$/.test(t) ? t : null;
}

/** Unix seconds (number or digit string) → ISO-8601; null when it is not a plausible time. */
export function unixToIso(v: unknown): string | null {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && /^\s*\d{1,12}\s*$/.test(v)) n = Number(v);
  else return null;
  if (!Number.isInteger(n) || n <= 0 || n > MAX_UNIX_SECONDS) return null;
  return new Date(n * 1000).toISOString();
}

/** Meta's `wa_id` / `recipient_id`: digits (a `+` or separators are dropped); null if not a number. */
export function waIdOf(v: unknown): string | null {
  const t = text(v, 64);
  if (t === null) return null;
  const digits = t.replace(/[\s()+.-]/g, "");
  return /^\d{5,20}$/.test(digits) ? digits : null;
}

/** The envelope check of the POST: a JSON object for `whatsapp_business_account` with an `entry` list. */
export function isWhatsAppNotification(body: unknown): body is { object: string; entry: unknown[] } {
  return isObj(body) && body.object === "whatsapp_business_account" && Array.isArray(body.entry);
}

/**
 * Everything the gateway acts on in one notification. `receivedAt` stands in for a missing or
 * unreadable `timestamp`. Opt-outs include recipients of `failed` statuses with code 131050.
 */
export function readNotification(body: unknown, receivedAt: string): Notification {
  if (!isWhatsAppNotification(body)) return EMPTY_NOTIFICATION;
  const out: Notification = { statuses: [], templates: [], termsSigned: [], optOuts: [] };
  for (const entry of body.entry) {
    if (!isObj(entry)) continue;
    const entryWaba = wabaIdOf(entry.id);
    for (const change of list(entry.changes)) {
      if (!isObj(change) || !isObj(change.value)) continue;
      const value = change.value;
      switch (change.field) {
        case "messages":
          readStatuses(value, entryWaba, receivedAt, out);
          break;
        case "message_template_status_update":
        case "template_category_update":
          readTemplate(change.field, value, entryWaba, out);
          break;
        case "account_update": {
          if (value.event !== "MM_LITE_TERMS_SIGNED") break;
          const info = isObj(value.waba_info) ? value.waba_info : {};
          const wabaId = wabaIdOf(info.waba_id) ?? entryWaba;
          if (wabaId !== null && !out.termsSigned.includes(wabaId)) out.termsSigned.push(wabaId);
          break;
        }
        case "user_preferences":
          readPreferences(value, entryWaba, receivedAt, out);
          break;
      }
    }
  }
  return out;
}

function readStatuses(value: Obj, wabaId: string | null, receivedAt: string, out: Notification): void {
  for (const s of list(value.statuses)) {
    if (!isObj(s) || typeof s.status !== "string" || !WEBHOOK_STATUSES.has(s.status)) continue;
    const wamid = text(s.id);
    if (wamid === null) continue;
    const status = s.status as WebhookStatus;
    const at = unixToIso(s.timestamp) ?? receivedAt;
    const pricing = isObj(s.pricing) ? text(s.pricing.category, 64) : null;
    const event: StatusEvent = {
      wamid,
      status,
      at,
      error: status === "failed" ? firstError(s.errors) : null,
      route: pricing !== null ? routeFromPricingCategory(pricing.toLowerCase()) : null,
    };
    out.statuses.push(event);
    if (event.error?.code === 131050 && wabaId !== null) {
      const waId = waIdOf(s.recipient_id);
      if (waId !== null) out.optOuts.push({ wabaId, waId, optedOut: true, at });
    }
  }
}

function firstError(errors: unknown): StatusEvent["error"] {
  const e = list(errors).find(isObj);
  if (!e) return { code: null, title: null };
  const code = typeof e.code === "number" ? e.code : typeof e.code === "string" ? Number(e.code) : Number.NaN;
  return {
    code: Number.isSafeInteger(code) ? code : null,
    title: text(e.title) ?? text(e.message),
  };
}

function readTemplate(field: string, value: Obj, wabaId: string | null, out: Notification): void {
  const name = text(value.message_template_name);
  const language = text(value.message_template_language, 32);
  if (wabaId === null || name === null || language === null) return;
  const upper = (v: unknown) => text(v, 64)?.toUpperCase() ?? null;
  out.templates.push({
    wabaId,
    name,
    language,
    status: field === "message_template_status_update" ? upper(value.event) : null,
    category: field === "template_category_update" ? upper(value.new_category) : null,
  });
}

function readPreferences(value: Obj, wabaId: string | null, receivedAt: string, out: Notification): void {
  if (wabaId === null) return;
  for (const p of list(value.user_preferences)) {
    if (!isObj(p) || p.category !== "marketing_messages") continue;
    if (p.value !== "stop" && p.value !== "resume") continue;
    const waId = waIdOf(p.wa_id);
    if (waId === null) continue;
    out.optOuts.push({
      wabaId,
      waId,
      optedOut: p.value === "stop",
      at: unixToIso(p.timestamp) ?? receivedAt,
    });
  }
}
