import { AppError } from "../lib/errors";
import type { RouteDecision, RoutingContext, TemplateInfo, WabaStatusAnswer } from "./types";

/**
 * The MM Lite vs Cloud API decision (product.md "The routing decision"), as pure functions.
 * It is split where I/O would happen: `decideWithoutStatus` settles every case that needs no WABA
 * status; only when it answers `needs_status` does the adapter ask the cache / Durable Object /
 * Meta, then `decideWithStatus` finishes. Nothing here touches a binding.
 */

/** Template checks come first: an invalid template is refused whatever the route or restriction. */
export function validateTemplate(
  template: TemplateInfo | null,
  wanted: { name: string; language: string },
  paramCount: number | null,
): TemplateInfo {
  if (!template) {
    throw new AppError(422, "template_not_found", "Template not found", {
      detail: `${wanted.name} (${wanted.language}) does not exist for this WABA`,
    });
  }
  if (template.status !== "APPROVED") {
    throw new AppError(422, "template_not_approved", "Template is not approved", {
      detail: `${template.name} (${template.language}) is ${template.status} at Meta`,
    });
  }
  if (paramCount !== null && paramCount !== template.paramCount) {
    throw new AppError(422, "template_params_mismatch", "Template parameter count differs", {
      detail: `${template.name} (${template.language}) takes ${template.paramCount} parameter(s), got ${paramCount}`,
    });
  }
  return template;
}

export type PreDecision = { kind: "decided"; decision: RouteDecision } | { kind: "needs_status" };

export function decideWithoutStatus(ctx: RoutingContext): PreDecision {
  // 1. Exception check: a manual restriction forbids MM Lite.
  if (ctx.botRestricted) return decided("cloud_api", "bot_restricted");
  // 2. Only marketing templates can go through MM Lite.
  if (ctx.template.category !== "MARKETING") return decided("cloud_api", "template_not_marketing");
  // A manual connection is synchronising at Meta: keep campaigns flowing through the Cloud API.
  if (ctx.syncPendingUntil !== null && ctx.requestedRoute === "auto") {
    return decided("cloud_api", "mm_lite_sync_pending");
  }
  // 3–5. Whether MM Lite is active (and so whether a Cloud API request is allowed) needs the status.
  return { kind: "needs_status" };
}

export function decideWithStatus(ctx: RoutingContext, status: WabaStatusAnswer): RouteDecision {
  const active = status.state === "active" && ctx.syncPendingUntil === null;
  if (ctx.requestedRoute === "cloud_api") {
    if (active) {
      throw new AppError(409, "mm_lite_required", "MM Lite is required", {
        detail: `MM Lite is active for this WABA: marketing template ${ctx.template.name} is sent through MM Lite only`,
      });
    }
    return { route: "cloud_api", reason: "cloud_api_requested" };
  }
  switch (status.state) {
    case "active":
      return { route: "mm_lite", reason: status.activatedNow ? "mm_lite_activated" : "mm_lite_active" };
    case "not_onboarded":
      return { route: "cloud_api", reason: "waba_not_onboarded" };
    case "unavailable":
      return { route: "cloud_api", reason: "meta_status_unavailable" };
  }
}

/** Per-message fallback after MM Lite refused a send (131055 / 134100 / 134102). */
export const FALLBACK_DECISION: RouteDecision = { route: "cloud_api", reason: "mm_lite_rejected_fallback" };

function decided(route: RouteDecision["route"], reason: RouteDecision["reason"]): PreDecision {
  return { kind: "decided", decision: { route, reason } };
}
