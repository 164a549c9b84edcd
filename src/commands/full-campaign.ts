import { z } from "zod";
import type { JsonRecipient } from "../campaigns/audience";
import { CommandFailure, REASON } from "./envelope";

/**
 * `set /campaign/full` (type application/vnd.iris.activecampaign.full-campaign+json): the resource
 * checked and turned into a campaign request, as pure functions.
 *
 * What public integrations really send (studied in the public code index; tests replay these
 * bodies as written):
 * - Andrevlopess/blip-api-client (TS SDK, zod): Batch with `audiences`, Individual with `audience`;
 *   `campaign.masterstate` (lower-case s), `flowId`/`stateId` UUIDs, `channelType:"WhatsApp"`,
 *   optional `campaign.scheduled` (ISO); `message` without `messageTemplateLanguage`; audience
 *   `messageParams` a string record (optional for Individual). Its gets encode `$skip` as `%24skip`
 *   and ask `/campaigns/{id}/reports?shouldHaveStateName=true`.
 * - skepsdigital/LimpezaDeBase (C#, System.Text.Json): `"method":"SET"`, `campaign.masterState`,
 *   recipients `"+" + digits`, `messageParams` left out (not null) when a row has none, and
 *   `message.messageParams` built from the first recipient's keys (or left out).
 * - teleksistemas/hidramais-disparo-ativo (TS, VTEX webhooks): Batch of one, `stateId:"onboarding"`,
 *   `sourceApplication`, recipient `messageParams` with keys that are not template parameters
 *   ("order", "pedido") beside "1".."4"; only the keys listed in `message.messageParams` are sent.
 * - teleksistemas/fundacao-bradesco-back-end (TS, RabbitMQ worker): `masterstate` with "@msging.net",
 *   `message.messageParams` as `String(i + 1)`.
 * - metrix0/EngravidaHub (TS): Individual, `sourceApplication:"API"`, `masterstate`; keeps the
 *   contact as `<digits>@wa.gw.msging.net` elsewhere — such identities are accepted as recipients.
 * - Node scripts in the index whose repository names it does not give: Individual with
 *   `message.messageParams` as numbers (`[1, 2, 3, 4]`) and `masterState`, no `channelType`; an
 *   Individual with `messageTemplateLanguage` and no `messageParams` at all; a header media URL
 *   under key "0" (`"channelType":"WHATSAPP"`, upper case); campaign name built from the recipient.
 *   A PHP (Guzzle) one builds `messageParams` with `json_encode`, which writes keys "0".."n" as a
 *   JSON array — so an array is read as keys "0", "1", ….
 * - A Java Spring service (package br.dev.ctrls.inovareti): Individual, `masterState`,
 *   `sourceApplication`, `messageTemplateLanguage:"pt_BR"`, recipient stripped of "@…" to "+digits";
 *   `Map.of` gives no key order, so order comes from `message.messageParams` only.
 * Accepted therefore: `campaignType` in any case; `masterState` / `masterstate` / `MasterState`,
 * `flowId`, `stateId`, `sourceApplication`, `tags` (string, null or absent — routing inside the
 * platform's bot flow does not exist here and they are ignored); `channelType` absent, null or
 * "WhatsApp" in any case; `scheduled` null or not in the future (a future time is refused: this
 * gateway sends at once); parameter keys and values as strings or numbers; `null` for anything
 * unused. Still refused (11): unknown members (typos such as `messageParam`), another channel, a
 * header `attachment`, Individual with `audiences` or Batch with `audience`.
 */

const MAX_RECIPIENTS = 200_000;
const MAX_PARAMS = 100;
/** A future `scheduled` further than this is refused; nearer ones are sent now. */
const SCHEDULE_SLACK_MS = 60_000;

const nullableText = z.string().max(1_000).nullable().optional();

const channel = z
  .string()
  .max(40)
  .nullable()
  .optional()
  .refine((v) => v == null || v.trim().toLowerCase() === "whatsapp", {
    message: 'Only the "WhatsApp" channel is served here',
  });

const paramValue = z.union([z.string().max(32_768), z.number(), z.boolean(), z.null()], {
  error: "Expected a string or a number",
});

const messageParams = z
  .union([z.record(z.string().max(64), paramValue), z.array(paramValue)], {
    error: "Expected an object of parameter values (or an array)",
  })
  .nullable()
  .optional()
  .refine((v) => v == null || Object.keys(v).length <= MAX_PARAMS, {
    message: `At most ${MAX_PARAMS} parameters`,
  });

const recipient = z.union(
  [z.string().trim().min(1).max(128), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)],
  { error: "Expected the recipient's phone number" },
);

const audienceEntry = z.strictObject({ recipient, messageParams });

const campaignSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  campaignType: z.string().refine((v) => ["batch", "individual"].includes(v.trim().toLowerCase()), {
    message: 'Expected "Batch" or "Individual"',
  }),
  flowId: nullableText,
  stateId: nullableText,
  masterState: nullableText,
  masterstate: nullableText,
  MasterState: nullableText,
  sourceApplication: nullableText,
  channelType: channel,
  scheduled: z.string().max(64).nullable().optional(),
  tags: z.array(z.string().max(200)).max(50).nullable().optional(),
});

const messageSchema = z.strictObject({
  messageTemplate: z.string().trim().min(1).max(512),
  messageTemplateLanguage: z.string().trim().min(2).max(15).nullable().optional(),
  messageParams: z
    .array(z.union([z.string().trim().min(1).max(64), z.number().int().nonnegative()]), {
      error: "Expected the list of parameter keys in template order",
    })
    .max(MAX_PARAMS)
    .nullable()
    .optional(),
  channelType: channel,
  attachment: z
    .null({ error: "Header media (attachment) is not supported: use a template without a media header" })
    .optional(),
});

export const FullCampaignSchema = z.strictObject({
  campaign: campaignSchema,
  audience: audienceEntry.nullable().optional(),
  audiences: z.array(audienceEntry).max(MAX_RECIPIENTS).nullable().optional(),
  message: messageSchema,
});

/**
 * Rules across members, read from the raw resource so they are reported together with the shape
 * problems (zod skips refinements of an object whose members already failed).
 */
function crossIssues(raw: unknown): string[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return [];
  const r = raw as Record<string, unknown>;
  const campaign = r.campaign as Record<string, unknown> | undefined;
  const kind = typeof campaign?.campaignType === "string" ? campaign.campaignType.trim().toLowerCase() : "";
  const issues: string[] = [];
  if (kind === "individual") {
    if (r.audiences != null)
      issues.push(
        "resource.audiences: An Individual campaign takes `audience` (one object), not `audiences`",
      );
    if (r.audience == null) issues.push("resource.audience: Required for an Individual campaign");
  } else if (kind === "batch") {
    if (r.audience != null)
      issues.push("resource.audience: A Batch campaign takes `audiences` (a list), not `audience`");
    if (r.audiences == null) issues.push("resource.audiences: Required for a Batch campaign");
  }
  const listed = (r.message as Record<string, unknown> | undefined)?.messageParams;
  if (Array.isArray(listed)) {
    const keys = listed.map(String);
    const repeated = [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
    if (repeated.length > 0)
      issues.push(`resource.message.messageParams: Key(s) listed twice: ${repeated.join(", ")}`);
  }
  return issues;
}

export interface FullCampaignPlan {
  name: string;
  kind: "individual" | "batch";
  template: string;
  /** null: not given, to be inferred from the template's approved languages. */
  language: string | null;
  /** `message.messageParams`: the keys, in template order; null when not given. */
  keys: string[] | null;
  audience: JsonRecipient[];
}

/** The resource checked (failure 11 listing every problem) and mapped to a campaign request. */
export function planFullCampaign(resource: unknown, now = Date.now()): FullCampaignPlan {
  const parsed = FullCampaignSchema.safeParse(resource);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => `${["resource", ...i.path].join(".")}: ${i.message}`)),
    ...crossIssues(resource),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new CommandFailure(REASON.invalidResource, `Invalid resource: ${problems.join("; ")}`);
  }
  const r = parsed.data;
  checkSchedule(r.campaign.scheduled, now);
  const keys = r.message.messageParams == null ? null : r.message.messageParams.map(String);
  const entries = r.audiences ?? (r.audience ? [r.audience] : []);
  return {
    name: r.campaign.name,
    kind: r.campaign.campaignType.trim().toLowerCase() === "individual" ? "individual" : "batch",
    template: r.message.messageTemplate,
    language: r.message.messageTemplateLanguage ? normalizeLanguage(r.message.messageTemplateLanguage) : null,
    keys,
    audience: entries.map((e) => ({
      to: recipientNumber(e.recipient),
      params: orderedParams(keys, e.messageParams ?? null),
    })),
  };
}

/**
 * A recipient's parameters in template order: the values of `keys` (its own keys in order when the
 * message lists none). A key the recipient lacks (or sends as null) is left out, so the row has the
 * wrong count and becomes an `invalid` recipient (`template_params_mismatch`) — as a short CSV row
 * does. Keys that are not listed are ignored.
 */
export function orderedParams(
  keys: readonly string[] | null,
  values: Record<string, unknown> | readonly unknown[] | null,
): string[] {
  const byKey: Record<string, unknown> = Array.isArray(values)
    ? Object.fromEntries(values.map((v, i) => [String(i), v]))
    : ((values as Record<string, unknown> | null) ?? {});
  const order = keys ?? Object.keys(byKey);
  const out: string[] = [];
  for (const key of order) {
    if (!Object.hasOwn(byKey, key)) continue;
    const v = byKey[key];
    if (v === null || v === undefined) continue;
    out.push(typeof v === "string" ? v : String(v));
  }
  return out;
}

/** A WhatsApp identity (`5511…@wa.gw.msging.net`) is its number; numbers may come as JSON numbers. */
export function recipientNumber(value: string | number): string {
  const text = typeof value === "number" ? String(value) : value.trim();
  return text.replace(/@wa\.gw\.msging\.net$/i, "");
}

/** Meta's codes are `pt_BR`, `en_US`, `en`: `pt-BR` and `pt_br` are read as `pt_BR`. */
export function normalizeLanguage(code: string): string {
  const c = code.trim();
  const pair = /^([a-z]{2,3})[-_]([a-z]{2})$/i.exec(c);
  if (pair) return `${(pair[1] as string).toLowerCase()}_${(pair[2] as string).toUpperCase()}`;
  if (/^[a-z]{2,3}$/i.test(c)) return c.toLowerCase();
  return c;
}

function checkSchedule(scheduled: string | null | undefined, now: number): void {
  if (scheduled == null || scheduled.trim() === "") return;
  const at = Date.parse(scheduled);
  if (Number.isNaN(at)) {
    throw new CommandFailure(
      REASON.invalidResource,
      "Invalid resource: resource.campaign.scheduled: Expected an ISO-8601 time",
    );
  }
  if (at > now + SCHEDULE_SLACK_MS) {
    throw new CommandFailure(
      REASON.general,
      `Scheduled campaigns are not supported: campaign.scheduled is ${scheduled}; ` +
        "send the command at that time, or leave scheduled out to send now",
    );
  }
}
