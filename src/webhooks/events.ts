/**
 * Notifications that change routing rather than messages: template status / category updates
 * refresh the template cache, `MM_LITE_TERMS_SIGNED` drops the WABA's cached status so the next
 * send asks Meta (and says `mm_lite_activated` if Meta now says ONBOARDED).
 */
import { type CachedTemplate, kvKeys, kvTtl } from "../cache/keys";
import { log } from "../lib/log";
import { wabaGate } from "../routing/service";
import type { TemplateEvent } from "./notification";

/** Template statuses Meta documents (meta-platform.md "Templates"); another `event` is not a status. */
const TEMPLATE_STATUSES = new Set([
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
]);
const CATEGORIES = new Set(["MARKETING", "UTILITY", "AUTHENTICATION"]);
const KV_MAX_KEY_BYTES = 512;
const encoder = new TextEncoder();

/**
 * The cached template after the event, or null to delete the key (the next lookup asks Meta):
 * the payload names the new status or category but not the rest of the template, so only a cached
 * template can be updated in place.
 */
export function templateAfter(cached: CachedTemplate | null, event: TemplateEvent): CachedTemplate | null {
  if (!cached?.found) return null;
  if (event.status !== null) {
    return TEMPLATE_STATUSES.has(event.status)
      ? { found: true, template: { ...cached.template, status: event.status } }
      : null;
  }
  if (event.category !== null && CATEGORIES.has(event.category)) {
    return { found: true, template: { ...cached.template, category: event.category } };
  }
  return null;
}

/** Applies template events in arrival order (the last one for a template wins). */
export async function applyTemplateEvents(env: Env, events: readonly TemplateEvent[]): Promise<void> {
  for (const event of events) {
    const key = kvKeys.template(event.wabaId, event.name, event.language);
    // Longer than KV allows: no such key can have been cached.
    if (encoder.encode(key).byteLength > KV_MAX_KEY_BYTES) continue;
    const cached = await env.CACHE.get<CachedTemplate>(key, "json");
    const next = templateAfter(cached, event);
    if (next) await env.CACHE.put(key, JSON.stringify(next), { expirationTtl: kvTtl.templateFound });
    else await env.CACHE.delete(key);
    log.info("template_cache_refreshed", { wabaId: event.wabaId, name: event.name, kept: next !== null });
  }
}

/** Drops the cached status of every known WABA among `wabaIds` (unknown ones are ignored). */
export async function applyTermsSigned(env: Env, wabaIds: readonly string[]): Promise<void> {
  if (wabaIds.length === 0) return;
  const { results } = await env.DB.prepare(
    "SELECT DISTINCT waba_id FROM bots WHERE waba_id IN (SELECT value FROM json_each(?1))",
  )
    .bind(JSON.stringify(wabaIds))
    .all<{ waba_id: string }>();
  for (const { waba_id: wabaId } of results) {
    await wabaGate(env, wabaId).dropStatus(wabaId, false);
    log.info("waba_status_dropped", { wabaId, reason: "MM_LITE_TERMS_SIGNED" });
  }
}
