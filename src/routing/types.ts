/** The vocabulary of the routing decision, shared by the pure rules and their adapters. */
export type Route = "mm_lite" | "cloud_api";

export type RouteReason =
  | "bot_restricted"
  | "template_not_marketing"
  | "mm_lite_active"
  | "mm_lite_activated"
  | "waba_not_onboarded"
  | "mm_lite_sync_pending"
  | "meta_status_unavailable"
  | "cloud_api_requested"
  | "mm_lite_rejected_fallback";

export type RequestedRoute = "auto" | "cloud_api";

export type TemplateCategory = "MARKETING" | "UTILITY" | "AUTHENTICATION" | (string & {});

/** What the gateway knows of a template (from the cache or Meta). */
export interface TemplateInfo {
  name: string;
  language: string;
  status: string;
  category: TemplateCategory;
  paramCount: number;
}

/**
 * The WABA's MM Lite state as answered by the cache or by Meta.
 * - `active`: ONBOARDED (in either status field).
 * - `not_onboarded`: Meta answered with anything else.
 * - `unavailable`: Meta could not be asked.
 * `activatedNow` is true only for the one answer that saw the WABA become active.
 */
export interface WabaStatusAnswer {
  state: "active" | "not_onboarded" | "unavailable";
  activatedNow: boolean;
}

export interface RoutingContext {
  requestedRoute: RequestedRoute;
  botRestricted: boolean;
  template: TemplateInfo;
  /** End of a manual connection's sync window, when one is open (ISO time), else null. */
  syncPendingUntil: string | null;
}

export interface RouteDecision {
  route: Route;
  reason: RouteReason;
}
