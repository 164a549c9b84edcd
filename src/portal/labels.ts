/** Words for the codes the API answers with (pure), so pages speak to people, not to parsers. */

export const ROUTE_LABEL: Record<string, string> = {
  mm_lite: "MM Lite API",
  cloud_api: "Cloud API",
};

export const ROUTE_REASON_LABEL: Record<string, string> = {
  bot_restricted: "MM Lite is turned off for this bot",
  template_not_marketing: "Not a marketing template",
  mm_lite_active: "MM Lite is active",
  mm_lite_activated: "MM Lite was activated for this campaign",
  waba_not_onboarded: "The WhatsApp account is not onboarded to MM Lite",
  mm_lite_sync_pending: "MM Lite is still synchronising with Meta",
  meta_status_unavailable: "Meta's status could not be read; the Cloud API kept it going",
  cloud_api_requested: "The Cloud API was requested",
  mm_lite_rejected_fallback: "MM Lite refused it; sent through the Cloud API",
};

export const STATUS_LABEL: Record<string, string> = {
  sending: "Sending",
  completed: "Completed",
  cancelled: "Cancelled",
  queued: "Queued",
  accepted: "Accepted",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Failed",
  invalid: "Invalid",
};

export const INVALID_REASON_LABEL: Record<string, string> = {
  invalid_phone: "Not a valid phone number",
  template_params_mismatch: "Wrong number of template parameters",
};

/** What Meta's MM Lite onboarding status means for the business, and what to do about it. */
export const ONBOARDING_ADVICE: Record<string, { meaning: string; action: string }> = {
  ONBOARDED: {
    meaning: "Meta has onboarded this WhatsApp account to MM Lite.",
    action: "Nothing to do: the next marketing campaign activates MM Lite.",
  },
  ELIGIBLE: {
    meaning: "The account can use MM Lite but has not accepted Meta's terms yet.",
    action: "Connect the MM Lite API below (or accept the terms in Meta's Business Manager).",
  },
  PENDING_VALID_PAYMENT_METHOD: {
    meaning: "Meta is waiting for a valid payment method.",
    action: "Add a valid payment method to the WhatsApp account in Meta's Business Manager.",
  },
  PENDING_INTERNAL_SETUP: {
    meaning: "Meta is still setting the account up.",
    action: "Nothing to do for now; check again later.",
  },
  INELIGIBLE_ON_BEHALF_OF_WABA: {
    meaning: "The WhatsApp account is of the On-Behalf-Of type, which MM Lite cannot use.",
    action: "Connect the MM Lite API and accept the migration of the account to the shared model.",
  },
  INELIGIBLE_INACTIVE_OR_RESTRICTED: {
    meaning: "The WhatsApp account is inactive or restricted at Meta.",
    action: "Resolve the restriction in Meta's WhatsApp Manager, then check again.",
  },
  INELIGIBLE_COUNTRY_NOT_SUPPORTED: {
    meaning: "MM Lite is not offered in the business's country.",
    action: "Keep sending through the Cloud API; nothing else is needed.",
  },
  INELIGIBLE_USING_WHATSAPP_BUSINESS_APP: {
    meaning: "The number is also used in the WhatsApp Business app.",
    action: "Use a number registered only on the Cloud API to send through MM Lite.",
  },
};

export const NO_STATUS_ADVICE = {
  meaning: "Meta has not reported an MM Lite status for this WhatsApp account.",
  action: "Check again later; campaigns keep going through the Cloud API meanwhile.",
};

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined) return "—";
  return table[code] ?? code;
}

/** `2026-11-29T14:03:07.123Z` → `2026-11-29 14:03 UTC` (pages render without a script, in UTC). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** `0.98765` → `98.8%`; whole numbers without decimals. */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return "0%";
  const p = ratio * 100;
  const rounded = Math.round(p * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "in 23 h 59 min" style remaining time until `iso` (or "now" when past). */
export function timeLeft(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms) || ms <= 0) return "now";
  const minutes = Math.ceil(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min`;
}
