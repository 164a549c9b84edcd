import { type CachedTemplate, type CachedWabaStatus, kvKeys } from "../cache/keys";
import { errors } from "../lib/errors";
import { decideWithoutStatus, decideWithStatus, validateTemplate } from "./decide";
import type { RouteDecision, RoutingContext, TemplateInfo, WabaStatusAnswer } from "./types";

/**
 * Adapters around the pure decision: KV first (no call to Meta on a hit), then the WABA's Durable
 * Object, which serialises the Meta query and registers the answer.
 */

export function wabaGate(env: Env, wabaId: string) {
  return env.WABA_GATE.get(env.WABA_GATE.idFromName(wabaId));
}

/** `claimActivation: false` for readers that only look (see WabaGate.resolveStatus). */
export async function wabaStatus(
  env: Env,
  wabaId: string,
  claimActivation = true,
): Promise<WabaStatusAnswer> {
  const cached = await env.CACHE.get<CachedWabaStatus>(kvKeys.wabaStatus(wabaId), "json");
  if (cached) return { state: cached.state, activatedNow: false };
  return wabaGate(env, wabaId).resolveStatus(wabaId, claimActivation);
}

/** The template as Meta knows it (cached); 503 when Meta cannot be asked and nothing is cached. */
export async function loadTemplate(
  env: Env,
  wabaId: string,
  name: string,
  language: string,
): Promise<TemplateInfo | null> {
  const cached = await env.CACHE.get<CachedTemplate>(kvKeys.template(wabaId, name, language), "json");
  if (cached) return cached.found ? cached.template : null;
  const lookup = await wabaGate(env, wabaId).resolveTemplate(wabaId, name, language);
  switch (lookup.kind) {
    case "found":
      return lookup.template;
    case "missing":
      return null;
    case "unavailable":
      throw errors.metaUnavailable(lookup.detail);
  }
}

export interface RouteRequest {
  wabaId: string;
  requestedRoute: RoutingContext["requestedRoute"];
  botRestricted: boolean;
  syncPendingUntil: string | null;
}

/** Template checks (exists, APPROVED, parameter count), which come before everything else. */
export async function approvedTemplate(
  env: Env,
  wabaId: string,
  wanted: { name: string; language: string },
  paramCount: number | null,
): Promise<TemplateInfo> {
  const found = await loadTemplate(env, wabaId, wanted.name, wanted.language);
  return validateTemplate(found, wanted, paramCount);
}

/** The route for an approved template (product.md steps 1 and 3–6). */
export async function decideRoute(
  env: Env,
  template: TemplateInfo,
  req: RouteRequest,
): Promise<RouteDecision> {
  const ctx: RoutingContext = {
    requestedRoute: req.requestedRoute,
    botRestricted: req.botRestricted,
    template,
    syncPendingUntil: req.syncPendingUntil,
  };
  const pre = decideWithoutStatus(ctx);
  if (pre.kind === "decided") return pre.decision;
  return decideWithStatus(ctx, await wabaStatus(env, req.wabaId));
}
