// Start-up configuration from vars: SIM_SEED (fixtures, see seeds.ts) and SIM_AUTO_WEBHOOKS (the
// auto-emitter, as `PUT /_sim/auto-webhooks` takes it). Pure planning, so tests can check it without
// the vars; the registry applies the plan (registry.ts `boot`).
//
// The registry records the var values it last applied (the "boot marker"). A value is applied when it
// differs from the marker, where no marker counts as both vars "": so each value is applied once per
// storage (a restart with the same vars does nothing, a changed var is applied at the next start), and
// a reset records the current values, leaving the simulator empty until `POST /_sim/seed`.
import { z } from "zod";
import { autoWebhooksInput, toAutoWebhookConfig } from "./control/schemas";
import { SEED_NAMES, type SeedName } from "./seeds";
import { AUTO_WEBHOOKS_OFF, type AutoWebhookConfig } from "./types";

/** The two vars; absent (the test pool sets neither) means "". */
export interface BootVars {
  SIM_SEED?: string;
  SIM_AUTO_WEBHOOKS?: string;
}

/** The raw (trimmed) var values last applied. */
export interface BootMarker {
  seed: string;
  autoWebhooks: string;
}

export interface BootPlan {
  /** Fixtures to apply now, if any. */
  seed: SeedName | null;
  /** Auto-emitter setting to install now, if any (OFF when the var was cleared). */
  autoWebhooks: AutoWebhookConfig | null;
  /** What to record once the plan is applied; null when nothing changed. */
  marker: BootMarker | null;
}

export class BootConfigError extends Error {
  override name = "BootConfigError";
}

export function bootMarker(vars: BootVars): BootMarker {
  return { seed: (vars.SIM_SEED ?? "").trim(), autoWebhooks: (vars.SIM_AUTO_WEBHOOKS ?? "").trim() };
}

/** Validates both vars (throws BootConfigError, whatever the marker) and says what to apply. */
export function planBoot(vars: BootVars, applied: BootMarker | null): BootPlan {
  const now = bootMarker(vars);
  const seed = parseSeed(now.seed);
  const auto = parseAutoWebhooks(now.autoWebhooks);
  const prev = applied ?? { seed: "", autoWebhooks: "" };
  const seedChanged = now.seed !== prev.seed;
  const autoChanged = now.autoWebhooks !== prev.autoWebhooks;
  return {
    seed: seedChanged ? seed : null,
    autoWebhooks: autoChanged ? (auto ?? { ...AUTO_WEBHOOKS_OFF }) : null,
    marker: seedChanged || autoChanged ? now : null,
  };
}

function parseSeed(raw: string): SeedName | null {
  if (raw === "") return null;
  if ((SEED_NAMES as string[]).includes(raw)) return raw as SeedName;
  throw new BootConfigError(`SIM_SEED "${raw}" is not a seed; use one of ${SEED_NAMES.join(", ")} or ""`);
}

function parseAutoWebhooks(raw: string): AutoWebhookConfig | null {
  if (raw === "") return null;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new BootConfigError(`SIM_AUTO_WEBHOOKS is not JSON (${(err as Error).message}): ${raw}`);
  }
  const parsed = autoWebhooksInput.safeParse(json);
  if (!parsed.success)
    throw new BootConfigError(
      `SIM_AUTO_WEBHOOKS is not a valid auto-webhooks body: ${z.prettifyError(parsed.error)}`,
    );
  return toAutoWebhookConfig(parsed.data);
}
