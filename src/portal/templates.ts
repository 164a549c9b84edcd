/**
 * The template picker: only the WABA's APPROVED templates (Graph `message_templates`), cached in
 * KV for a minute per WABA so the steps of one send cost one Graph read. The send itself still goes
 * through the regular template check (approval and parameter count), so a stale entry can never
 * send a template that is no longer approved.
 */
import { errors } from "../lib/errors";
import { log } from "../lib/log";
import { metaClient } from "../meta/transport";

export interface PickerTemplate {
  name: string;
  language: string;
  category: string;
  /** Body placeholders in order (`["1","2"]` or `["first_name"]`). */
  paramNames: string[];
  /** The body text, for the preview. */
  body: string | null;
}

/** KV: `portal-templates:{wabaId}` → `{"at", "templates": PickerTemplate[]}`, 60 s (README.md). */
export const templatesKey = (wabaId: string) => `portal-templates:${wabaId}`;
const TTL_SECONDS = 60;

function bodyOf(components: unknown[]): string | null {
  for (const c of components) {
    if (typeof c !== "object" || c === null) continue;
    const { type, text } = c as { type?: unknown; text?: unknown };
    if (typeof type === "string" && type.toUpperCase() === "BODY" && typeof text === "string") return text;
  }
  return null;
}

export async function approvedTemplates(env: Env, wabaId: string): Promise<PickerTemplate[]> {
  const cached = await env.CACHE.get<{ at: string; templates: PickerTemplate[] }>(
    templatesKey(wabaId),
    "json",
  );
  if (cached) return cached.templates;
  let found: PickerTemplate[];
  try {
    const list = await metaClient(env).listTemplates(wabaId, { status: "APPROVED" });
    found = list
      .map((t) => ({
        name: t.name,
        language: t.language,
        category: t.category,
        paramNames: t.paramNames,
        body: bodyOf(t.components),
      }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.language.localeCompare(b.language));
  } catch (err) {
    log.warn("portal_templates_unavailable", { wabaId, error: err instanceof Error ? err.name : "unknown" });
    throw errors.metaUnavailable(
      "Meta could not be asked for the approved templates. Try again in a moment.",
    );
  }
  try {
    await env.CACHE.put(
      templatesKey(wabaId),
      JSON.stringify({ at: new Date().toISOString(), templates: found }),
      {
        expirationTtl: TTL_SECONDS,
      },
    );
  } catch {
    // KV allows about one write per second per key; a lost write costs one more Graph read.
  }
  return found;
}

/** `fall_sale:pt_BR` ⇄ name and language (template names and language codes have no colon). */
export function templateRef(t: { name: string; language: string }): string {
  return `${t.name}:${t.language}`;
}

export function parseTemplateRef(ref: unknown): { name: string; language: string } | null {
  if (typeof ref !== "string") return null;
  const m = /^([^:\s]{1,512}):([A-Za-z_]{2,15})$/.exec(ref.trim());
  return m ? { name: m[1] as string, language: m[2] as string } : null;
}

export function findTemplate(list: PickerTemplate[], ref: { name: string; language: string } | null) {
  if (!ref) return undefined;
  return list.find((t) => t.name === ref.name && t.language === ref.language);
}

const PHONE_NAMES = new Set(["phone", "to", "recipient", "number"]);

/** Column names of a template's parameters in the CSV (never one the phone column could take). */
export function paramColumns(t: PickerTemplate): string[] {
  return t.paramNames.map((n) => {
    const name = /^\d+$/.test(n) ? `param_${n}` : n;
    return PHONE_NAMES.has(name.toLowerCase()) ? `param_${name}` : name;
  });
}

/** A sample audience for the template: the header the upload expects and two example rows. */
export function sampleCsv(t: PickerTemplate): string {
  const cols = paramColumns(t);
  const example = (row: number) => cols.map((c) => `${c.replace(/^param_/, "value_")}_${row}`);
  const lines = [
    ["phone", ...cols],
    ["+5511999990001", ...example(1)],
    ["+5511999990002", ...example(2)],
  ];
  return `${lines.map((l) => l.join(",")).join("\r\n")}\r\n`;
}
