// Domain types shared by the Worker, the registry and the per-number lines (plain data: they cross
// Durable Object RPC boundaries, so no classes or functions here).

export type SendEndpoint = "send_mm_lite" | "send_cloud";
export type FaultEndpoint = SendEndpoint | "waba_status" | "templates";
export type Product = "mm_lite" | "cloud_api";
export type Category = "MARKETING" | "UTILITY" | "AUTHENTICATION";

export const ONBOARDING_STATUSES = [
  "ONBOARDED",
  "ELIGIBLE",
  "PENDING_VALID_PAYMENT_METHOD",
  "PENDING_INTERNAL_SETUP",
  "INELIGIBLE_ON_BEHALF_OF_WABA",
  "INELIGIBLE_INACTIVE_OR_RESTRICTED",
  "INELIGIBLE_COUNTRY_NOT_SUPPORTED",
  "INELIGIBLE_USING_WHATSAPP_BUSINESS_APP",
] as const;
export type OnboardingStatus = (typeof ONBOARDING_STATUSES)[number];
export const LEGACY_STATUSES = ["ONBOARDED", "ELIGIBLE", "INELIGIBLE"] as const;
export type LegacyStatus = (typeof LEGACY_STATUSES)[number];

export const TEMPLATE_STATUSES = [
  "APPROVED",
  "PENDING",
  "REJECTED",
  "PAUSED",
  "DISABLED",
  "IN_APPEAL",
  "LIMIT_EXCEEDED",
  "ARCHIVED",
  "DELETED",
  "PENDING_DELETION",
] as const;
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

export interface WabaRecord {
  id: string;
  name: string;
  onboardingStatus: OnboardingStatus;
  legacyStatus: LegacyStatus | null;
  ownerBusinessId: string;
  graphReadsPerHour: number;
}

export interface NumberRecord {
  id: string;
  wabaId: string;
  displayPhoneNumber: string;
  throughputMps: number;
  httpStatusOnThrottle: 400 | 429;
}

export interface TemplateRecord {
  /** Insertion order; the paging cursor is built from it. */
  seq: number;
  id: string;
  wabaId: string;
  name: string;
  language: string;
  status: TemplateStatus;
  category: Category;
  previousCategory?: Category;
  components: Record<string, unknown>[];
  /** Distinct {{n}} / {{name}} placeholders in the BODY text: what a send must supply. */
  paramCount: number;
}

/** The compact view of a template a line needs to validate sends. */
export interface LineTemplate {
  id: string;
  status: TemplateStatus;
  category: Category;
  paramCount: number;
}

export interface AutoWebhookConfig {
  enabled: boolean;
  /** Share of non-failed messages that get `delivered`. */
  deliveredRate: number;
  /** Share of delivered messages that get `read`. */
  readRate: number;
  /** Share of messages that get `failed` after `sent` (instead of delivered). */
  failedRate: number;
  failCode: number;
  failTitle?: string;
  /** Gap between accept → sent → delivered/failed → read. */
  delayMs: number;
  /** Statuses per webhook POST (Meta usually sends one). */
  batch: number;
  seed?: number;
}

export const AUTO_WEBHOOKS_OFF: AutoWebhookConfig = {
  enabled: false,
  deliveredRate: 1,
  readRate: 0,
  failedRate: 0,
  failCode: 131049,
  delayMs: 1000,
  batch: 1,
};

/** Everything a per-number line needs, pushed by the registry whenever it changes. */
export interface LineConfig {
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  throughputMps: number;
  httpStatusOnThrottle: 400 | 429;
  /** ONBOARDED in either the new or the legacy status field. */
  mmLiteOnboarded: boolean;
  /** Keyed by `${name}\u0000${language}`. */
  templates: Record<string, LineTemplate>;
  /** Whether some fault rule may hit this number's sends (only then does a send ask the registry). */
  faultsActive: boolean;
  sendLatencyMs: number;
  autoWebhooks: AutoWebhookConfig;
}

export const templateKey = (name: string, language: string) => `${name}\u0000${language}`;

/** An accepted message, as `/_sim/messages` lists it and the webhook builders consume it. */
export interface MessageRecord {
  wamid: string;
  phoneNumberId: string;
  wabaId: string;
  displayPhoneNumber: string;
  to: string;
  template: string;
  language: string;
  category: Category;
  params: string[];
  /** Which product actually carried it (MM Lite fallback → cloud_api). */
  product: Product;
  endpoint: SendEndpoint;
  at: string;
}
