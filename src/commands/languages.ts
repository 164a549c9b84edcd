import { AppError, errors } from "../lib/errors";
import { log } from "../lib/log";
import { metaClient } from "../meta/transport";

/**
 * The language of a `set /campaign/full` that leaves `messageTemplateLanguage` out: the template's
 * language when it is APPROVED in exactly one, otherwise a refusal that says why.
 *
 * It needs the WABA's template listing (Graph `message_templates`, every language of every name).
 * The listing is cached in KV per WABA, name → [language, status]:
 *   key `cmd-tpl-langs:{wabaId}`, value `{"at": ISO, "templates": {name: [[language, status], …]}}`,
 *   TTL 5 min. A listing older than a minute that lacks the name is read again once (a template
 *   created since). Staleness is harmless for sends: the chosen (name, language) still goes through
 *   the regular template check, which reads the per-template cache the webhooks keep fresh.
 */
const TTL_SECONDS = 300;
const REFRESH_MISSING_AFTER_MS = 60_000;
/** 20 pages of 100: the WABA template limit Meta documents is far below that. */
const MAX_PAGES = 20;

interface Listing {
  at: string;
  templates: Record<string, [language: string, status: string][]>;
}

const cacheKey = (wabaId: string) => `cmd-tpl-langs:${wabaId}`;

async function fetchListing(env: Env, wabaId: string): Promise<Listing> {
  let found: { name: string; language: string; status: string }[];
  try {
    found = await metaClient(env).listTemplates(wabaId, { maxPages: MAX_PAGES });
  } catch (err) {
    log.warn("template_listing_unavailable", { wabaId, error: err instanceof Error ? err.name : "unknown" });
    throw errors.metaUnavailable("Meta could not be asked for the WABA's templates to infer the language");
  }
  const templates: Listing["templates"] = {};
  for (const t of found) {
    const list = templates[t.name] ?? [];
    list.push([t.language, t.status]);
    templates[t.name] = list;
  }
  const listing: Listing = { at: new Date().toISOString(), templates };
  try {
    await env.CACHE.put(cacheKey(wabaId), JSON.stringify(listing), { expirationTtl: TTL_SECONDS });
  } catch (err) {
    // KV allows about one write per second per key; a lost write only costs a later Graph read.
    log.warn("template_listing_not_cached", { wabaId, error: err instanceof Error ? err.name : "unknown" });
  }
  return listing;
}

/** Every language of `name` at the WABA with its status (cached listing, read again when stale). */
export async function templateLanguages(
  env: Env,
  wabaId: string,
  name: string,
  now = Date.now(),
): Promise<{ language: string; status: string }[]> {
  let listing = await env.CACHE.get<Listing>(cacheKey(wabaId), "json");
  const stale = listing !== null && now - Date.parse(listing.at) > REFRESH_MISSING_AFTER_MS;
  if (listing === null || (!Object.hasOwn(listing.templates, name) && stale)) {
    listing = await fetchListing(env, wabaId);
  }
  const entries = Object.hasOwn(listing.templates, name) ? (listing.templates[name] ?? []) : [];
  return entries.map(([language, status]) => ({ language, status }));
}

/** The given language, or the only APPROVED one; refusals are 422s (→ failure 11). */
export async function resolveLanguage(
  env: Env,
  wabaId: string,
  name: string,
  given: string | null,
): Promise<string> {
  if (given !== null) return given;
  const languages = await templateLanguages(env, wabaId, name);
  const approved = languages.filter((l) => l.status === "APPROVED").map((l) => l.language);
  if (approved.length === 1) return approved[0] as string;
  if (approved.length > 1) {
    throw new AppError(422, "template_language_ambiguous", "Template language is ambiguous", {
      detail: `${name} is approved in ${approved.length} languages (${approved.sort().join(", ")}): give message.messageTemplateLanguage`,
    });
  }
  if (languages.length === 0) {
    throw new AppError(422, "template_not_found", "Template not found", {
      detail: `${name} does not exist for this WABA (in any language)`,
    });
  }
  throw new AppError(422, "template_not_approved", "Template is not approved", {
    detail: `${name} is not approved in any language (${languages.map((l) => `${l.language}: ${l.status}`).join(", ")})`,
  });
}
