/**
 * Reading Meta's template definitions. Pure: used on Graph answers and on cached copies alike.
 */

/** `{{1}}` (positional) or `{{first_name}}` (named: lowercase letters, digits, underscores). */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/**
 * Distinct placeholders of the BODY component, in order of first appearance. Only the body counts:
 * it is what the gateway fills from a message's `params` (header and button parameters are passed as
 * raw components). A placeholder used twice (`{{1}} … {{1}}`) takes one parameter.
 */
export function templateParamNames(components: unknown): string[] {
  const text = bodyText(components);
  if (text === undefined) return [];
  const names: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] as string;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

export function countTemplateParams(components: unknown): number {
  return templateParamNames(components).length;
}

/** True when the body uses named placeholders: Meta then wants `parameter_name` on each parameter. */
export function usesNamedParams(names: readonly string[]): boolean {
  return names.some((n) => !/^\d+$/.test(n));
}

function bodyText(components: unknown): string | undefined {
  if (!Array.isArray(components)) return undefined;
  for (const c of components) {
    if (typeof c !== "object" || c === null) continue;
    const { type, text } = c as { type?: unknown; text?: unknown };
    if (typeof type === "string" && type.toUpperCase() === "BODY") {
      return typeof text === "string" ? text : undefined;
    }
  }
  return undefined;
}
