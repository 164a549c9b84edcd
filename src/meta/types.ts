/**
 * Shapes of the Graph API as the gateway uses them (meta-platform.md). Meta's answers are read
 * defensively: every field is optional here and checked where it is used.
 */

/** Which Meta product carries a send: MM Lite (`/marketing_messages`) or the Cloud API (`/messages`). */
export type MetaProduct = "mm_lite" | "cloud_api";

/** MM Lite only. The gateway sends STRICT so that it, not Meta, does the Cloud API fallback. */
export type ProductPolicy = "CLOUD_API_FALLBACK" | "STRICT";

export interface TemplateMessage {
  /** E.164 with `+`; Meta receives the digits only. */
  to: string;
  template: {
    name: string;
    language: string;
    /** Body text parameters in placeholder order. */
    params?: string[];
    /**
     * The template's placeholder names (`MetaTemplate.paramNames`), same length and order as
     * `params`. When they are named (`{{first_name}}`) every body parameter carries its
     * `parameter_name`, as Meta requires; positional names ("1", "2") change nothing.
     */
    paramNames?: string[];
    /** Raw Meta components (header media, buttons, …), passed through unchanged. */
    components?: unknown[];
  };
  productPolicy?: ProductPolicy;
}

export interface TextParameter {
  type: "text";
  text: string;
  parameter_name?: string;
}

/** Exactly what Meta receives on `/messages` and `/marketing_messages`. */
export interface TemplateMessageBody {
  messaging_product: "whatsapp";
  recipient_type: "individual";
  to: string;
  type: "template";
  template: { name: string; language: { code: string }; components?: unknown[] };
  product_policy?: ProductPolicy;
}

export interface SendResult {
  wamid: string;
  /** `accepted`, `held_for_quality_assessment` or `paused`: none of them means delivered. */
  messageStatus: string;
  waId?: string;
}

export interface WabaOnboardingStatus {
  /** `marketing_messages_onboarding_status` (ONBOARDED, ELIGIBLE, PENDING_…, INELIGIBLE_…). */
  onboardingStatus: string | null;
  /** `marketing_messages_lite_api_status`, the older field being deprecated. */
  legacyStatus: string | null;
  /** ONBOARDED in either field. */
  onboarded: boolean;
}

export interface MetaTemplate {
  id: string;
  name: string;
  language: string;
  /** APPROVED, PENDING, REJECTED, PAUSED, DISABLED, … */
  status: string;
  /** MARKETING, UTILITY, AUTHENTICATION — it can change, so route on the latest answer. */
  category: string;
  components: unknown[];
  /** Distinct placeholders in the BODY text. */
  paramCount: number;
  /** Those placeholders in order of first appearance (`["1","2"]` or `["first_name"]`). */
  paramNames: string[];
}

export interface ListTemplatesOptions {
  /** e.g. "APPROVED"; sent as a Graph filter and also applied here. */
  status?: string;
  /** e.g. "MARKETING"; sent as a Graph filter and also applied here. */
  category?: string;
  /** Safety bound on `paging.next` hops (default 20 pages of 100). */
  maxPages?: number;
}

/** `{"error":{...}}` of a failed Graph call. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  error_data?: { messaging_product?: string; details?: string };
  fbtrace_id?: string;
}
