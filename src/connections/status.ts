import type { BotRow } from "../db/schema";
import { isoNow } from "../lib/time";
import { wabaStatus } from "../routing/service";
import { settleWindow, windowOpen } from "./window";

export interface MmLiteStatusView {
  wabaId: string;
  state: "active" | "syncing" | "inactive";
  onboardingStatus: string | null;
  activatedAt: string | null;
  syncUntil: string | null;
  checkedAt: string | null;
  botRestricted: boolean;
}

interface StatusRow {
  onboardingStatus: string | null;
  legacyStatus: string | null;
  checkedAt: string | null;
  activatedAt: string | null;
  connectionId: string | null;
  settledAt: string | null;
  syncUntil: string | null;
}

async function readRow(env: Env, wabaId: string): Promise<StatusRow | null> {
  return env.DB.prepare(
    `SELECT w.onboarding_status AS onboardingStatus, w.legacy_status AS legacyStatus,
            w.checked_at AS checkedAt, w.activated_at AS activatedAt,
            w.connection_id AS connectionId, w.sync_settled_at AS settledAt, c.sync_until AS syncUntil
       FROM wabas w LEFT JOIN mm_lite_connections c ON c.id = w.connection_id
      WHERE w.id = ?`,
  )
    .bind(wabaId)
    .first<StatusRow>();
}

/** ONBOARDED in either of Meta's fields counts (as for routing); otherwise the newer field first. */
function onboardingOf(row: StatusRow | null): string | null {
  if (!row) return null;
  if (row.onboardingStatus === "ONBOARDED" || row.legacyStatus === "ONBOARDED") return "ONBOARDED";
  return row.onboardingStatus ?? row.legacyStatus;
}

/**
 * `GET /v1/mm-lite/status`: the bot's WABA as the next marketing send would see it.
 *  - `syncing` while a connection's sync window is open. Meta is not asked: its answer is not
 *    meaningful before the synchronisation ends, and whatever it registered would be dropped at the
 *    end of the window anyway. The fields show the last recorded answer (D1).
 *  - otherwise the status comes from where a send gets it: the KV edge cache, else the WABA's
 *    Durable Object, which asks Meta (one query in flight per WABA) and registers the answer. So a
 *    status page shows Meta's real status even before the first send, and opening it costs at
 *    most one Graph read per cache lifetime (24 h when active, 5 min otherwise). Registering is
 *    what a send would do: if this read is the one that sees ONBOARDED, MM Lite is activated here
 *    (`activatedAt` is now) and the next send says `mm_lite_active`, not `mm_lite_activated`.
 *  - `active` when that status is active and the activation is recorded; else `inactive` with
 *    Meta's last onboarding status (also when Meta could not be asked: the last recorded one).
 * An ended window is settled here as by a send (./window.ts), so the page never shows a status
 * cached from before the synchronisation.
 */
export async function mmLiteStatus(env: Env, bot: BotRow, now = Date.now()): Promise<MmLiteStatusView> {
  const at = isoNow(now);
  let row = await readRow(env, bot.wabaId);
  const base = { wabaId: bot.wabaId, syncUntil: row?.syncUntil ?? null, botRestricted: bot.mmLiteRestricted };
  if (row && windowOpen(row.syncUntil, at)) {
    return {
      ...base,
      state: "syncing",
      onboardingStatus: onboardingOf(row),
      activatedAt: row.activatedAt,
      checkedAt: row.checkedAt,
    };
  }
  if (row?.connectionId && row.settledAt === null) await settleWindow(env, bot.wabaId, row.connectionId, at);

  // Looking must not claim the activation: the first send after it still says mm_lite_activated.
  const answer = await wabaStatus(env, bot.wabaId, false);
  row = await readRow(env, bot.wabaId);
  const active = answer.state === "active";
  return {
    ...base,
    state: active ? "active" : "inactive",
    onboardingStatus: onboardingOf(row),
    activatedAt: row?.activatedAt ?? null,
    checkedAt: row?.checkedAt ?? null,
  };
}
