/**
 * The steps of "Connect MM Lite API" (pure): which steps a WABA has, what each needs, the answers
 * carried from step to step in the query string.
 */

export type StepKey =
  | "permission"
  | "business"
  | "numbers"
  | "ad-accounts"
  | "review"
  | "migration"
  | "confirm";

export interface WizardState {
  permission: boolean;
  business: string | null;
  numbers: string[];
  /** Ad account ids as typed (comma, space or newline separated). */
  ads: string;
  migration: boolean;
}

export interface WizardBot {
  name: string;
  businessId: string;
  wabaId: string;
  phoneNumberId: string;
  wabaType: "shared" | "obo";
}

export const STEP_TITLES: Record<StepKey, string> = {
  permission: "Permission",
  business: "Business",
  numbers: "WhatsApp numbers",
  "ad-accounts": "Ad accounts",
  review: "Review",
  migration: "WABA migration",
  confirm: "Final acceptance",
};

/** The steps of this WABA: the migration step only for an On-Behalf-Of WABA. */
export function stepsFor(obo: boolean): StepKey[] {
  return [
    "permission",
    "business",
    "numbers",
    "ad-accounts",
    "review",
    ...(obo ? (["migration"] as const) : []),
    "confirm",
  ];
}

const GRAPH_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Ad account ids typed by the user: the list, or the reason it cannot be used. */
export function parseAdAccounts(text: string): { ok: true; ids: string[] } | { ok: false; error: string } {
  const ids = [
    ...new Set(
      text
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (ids.length === 0) return { ok: false, error: "Give at least one ad account ID." };
  if (ids.length > 100) return { ok: false, error: "Give at most 100 ad account IDs." };
  const bad = ids.find((id) => !GRAPH_ID.test(id));
  if (bad !== undefined) {
    return {
      ok: false,
      error: `“${bad.slice(0, 40)}” is not an ad account ID (letters, digits, _ or -, such as act_1234567890).`,
    };
  }
  return { ok: true, ids };
}

/** The first step whose answer is missing or wrong, with why (null: everything up to `upTo` is there). */
export function firstMissing(
  state: WizardState,
  bot: WizardBot,
  upTo: StepKey,
): { step: StepKey; error: string } | null {
  const steps = stepsFor(bot.wabaType === "obo");
  const need = (step: StepKey) => steps.indexOf(step) < steps.indexOf(upTo);
  if (need("permission") && !state.permission)
    return { step: "permission", error: "Allow the information sharing to continue." };
  if (need("business") && state.business !== bot.businessId)
    return { step: "business", error: "Select the business to connect." };
  if (need("numbers") && (state.numbers.length === 0 || state.numbers.some((n) => n !== bot.phoneNumberId)))
    return { step: "numbers", error: "Select at least one WhatsApp number." };
  if (need("ad-accounts")) {
    const ads = parseAdAccounts(state.ads);
    if (!ads.ok) return { step: "ad-accounts", error: ads.error };
  }
  if (steps.includes("migration") && need("migration") && !state.migration)
    return { step: "migration", error: "Accept the migration of the WhatsApp Business Account to continue." };
  return null;
}

/** A query string of the answers so far (for the Back links). */
export function stateQuery(state: WizardState, step: StepKey): string {
  const q = new URLSearchParams({ step });
  if (state.permission) q.append("permission", "yes");
  if (state.business !== null) q.append("business", state.business);
  for (const n of state.numbers) q.append("numbers", n);
  if (state.ads) q.append("ads", state.ads);
  if (state.migration) q.append("migration", "accepted");
  return q.toString();
}
