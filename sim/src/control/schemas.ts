// Bodies the control API accepts. Validated with zod so a typo in a test setup fails loudly (400 with
// the issues) instead of silently configuring something else.
import { z } from "zod";
import { SEED_NAMES } from "../seeds";
import {
  AUTO_WEBHOOKS_OFF,
  type AutoWebhookConfig,
  LEGACY_STATUSES,
  ONBOARDING_STATUSES,
  TEMPLATE_STATUSES,
} from "../types";

const category = z.enum(["MARKETING", "UTILITY", "AUTHENTICATION"]);
const throttleStatus = z.union([z.literal(400), z.literal(429)]);
const mps = z.number().int().min(1).max(100_000);

export const templateInput = z.object({
  name: z.string().min(1),
  language: z.string().min(1),
  status: z.enum(TEMPLATE_STATUSES),
  category,
  id: z.string().regex(/^\d+$/).optional(),
  /** Meta-shaped components ([{type:"BODY", text:"Hi {{1}}"}, ...]); or just bodyText. */
  components: z.array(z.looseObject({ type: z.string() })).optional(),
  bodyText: z.string().optional(),
});
export type TemplateInput = z.infer<typeof templateInput>;

export const templatePatch = templateInput
  .omit({ name: true, language: true })
  .partial()
  .extend({ status: z.enum(TEMPLATE_STATUSES).optional(), category: category.optional() });
export type TemplatePatch = z.infer<typeof templatePatch>;

export const numberInput = z.object({
  id: z.string().min(1),
  throughputMps: mps.optional(),
  displayPhoneNumber: z.string().optional(),
  httpStatusOnThrottle: throttleStatus.optional(),
});

export const wabaInput = z.object({
  name: z.string().optional(),
  onboardingStatus: z.enum(ONBOARDING_STATUSES).optional(),
  legacyStatus: z.enum(LEGACY_STATUSES).nullable().optional(),
  ownerBusinessId: z.string().optional(),
  /** Graph reads (status + templates) allowed per sliding hour before 80007. */
  graphReadsPerHour: z.number().int().min(1).optional(),
  phoneNumbers: z.array(numberInput).optional(),
  templates: z.array(templateInput).optional(),
});
export type WabaInput = z.infer<typeof wabaInput>;

export const numberPatch = z.object({
  throughputMps: mps.optional(),
  httpStatusOnThrottle: throttleStatus.optional(),
  displayPhoneNumber: z.string().optional(),
});
export type NumberPatch = z.infer<typeof numberPatch>;

const faultEndpoint = z.enum(["send_mm_lite", "send_cloud", "waba_status", "templates"]);

export const faultRuleInput = z
  .object({
    id: z.string().optional(),
    endpoint: z.union([faultEndpoint, z.array(faultEndpoint)]).optional(),
    phoneNumberId: z.string().optional(),
    wabaId: z.string().optional(),
    code: z.number().int().optional(),
    httpStatus: z.number().int().min(200).max(599).optional(),
    message: z.string().optional(),
    details: z.string().optional(),
    timeoutMs: z.number().int().min(0).max(600_000).optional(),
    drop: z.boolean().optional(),
    acceptBeforeDrop: z.boolean().optional(),
    probability: z.number().min(0).max(1).optional(),
    count: z.number().int().min(1).optional(),
  })
  .refine((r) => (r.code === undefined) !== (r.timeoutMs === undefined), {
    message: "a fault rule needs exactly one of code (error fault) or timeoutMs (timeout fault)",
  });
export type FaultRuleInput = z.infer<typeof faultRuleInput>;

export const faultsInput = z.object({
  rules: z.array(faultRuleInput).default([]),
  sendLatencyMs: z.number().int().min(0).max(600_000).default(0),
  wabaStatusUnavailable: z
    .union([
      z.boolean(),
      z.object({
        httpStatus: z.number().int().min(500).max(599).optional(),
        code: z.number().int().optional(),
      }),
    ])
    .optional(),
  seed: z.number().int().optional(),
});
export type FaultsInput = z.infer<typeof faultsInput>;

const rate = z.number().min(0).max(1);
export const autoWebhooksInput = z.object({
  enabled: z.boolean(),
  deliveredRate: rate.optional(),
  readRate: rate.optional(),
  failedRate: rate.optional(),
  failCode: z.number().int().optional(),
  failTitle: z.string().optional(),
  delayMs: z.number().int().min(0).max(3_600_000).optional(),
  batch: z.number().int().min(1).max(1000).optional(),
  seed: z.number().int().optional(),
});
export type AutoWebhooksInput = z.infer<typeof autoWebhooksInput>;

/** What `PUT /_sim/auto-webhooks` (and SIM_AUTO_WEBHOOKS) installs: the input over the defaults. */
export const toAutoWebhookConfig = (input: AutoWebhooksInput): AutoWebhookConfig => ({
  ...AUTO_WEBHOOKS_OFF,
  ...input,
});

/** `POST /_sim/seed`: which fixture set (seeds.ts) to apply. */
export const seedInput = z.object({ name: z.enum(SEED_NAMES).default("demo") });

const webhookStatus = z.enum(["sent", "delivered", "read", "failed"]);
export const emitInput = z.object({
  wamids: z.union([z.array(z.string()), z.literal("all")]).optional(),
  statuses: z.array(webhookStatus).min(1).optional(),
  fail: z
    .object({
      code: z.number().int(),
      title: z.string().optional(),
      message: z.string().optional(),
      details: z.string().optional(),
    })
    .optional(),
  duplicate: z.boolean().optional(),
  shuffle: z.boolean().optional(),
  batch: z.number().int().min(1).max(1000).optional(),
  dryRun: z.boolean().optional(),
  /** Unix seconds for every status; default now. */
  timestamp: z.number().int().optional(),
  seed: z.number().int().optional(),
  /** Override SIM_GATEWAY_WEBHOOK_URL for this call. */
  url: z.url().optional(),
});
export type EmitInput = z.infer<typeof emitInput>;

const emitCommon = {
  dryRun: z.boolean().optional(),
  url: z.url().optional(),
  timestamp: z.number().int().optional(),
};
export const eventInput = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("mm_lite_terms_signed"),
    wabaId: z.string(),
    /** Also mark the WABA ONBOARDED in the simulator, as Meta would (default true). */
    apply: z.boolean().default(true),
    ...emitCommon,
  }),
  z.object({
    kind: z.literal("message_template_status_update"),
    wabaId: z.string(),
    name: z.string(),
    language: z.string(),
    event: z.enum(TEMPLATE_STATUSES),
    reason: z.string().default("NONE"),
    apply: z.boolean().default(true),
    ...emitCommon,
  }),
  z.object({
    kind: z.literal("template_category_update"),
    wabaId: z.string(),
    name: z.string(),
    language: z.string(),
    newCategory: category,
    apply: z.boolean().default(true),
    ...emitCommon,
  }),
  z.object({
    kind: z.literal("user_preferences"),
    phoneNumberId: z.string(),
    waId: z.string().regex(/^\d+$/),
    value: z.enum(["stop", "resume"]),
    name: z.string().optional(),
    ...emitCommon,
  }),
]);
export type EventInput = z.infer<typeof eventInput>;
