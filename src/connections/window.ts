import type { BotRow } from "../db/schema";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { wabaGate } from "../routing/service";
import type { TemplateInfo } from "../routing/types";

/**
 * The sync window of a manual MM Lite connection (product.md "Manual connection"): for
 * MM_LITE_SYNC_HOURS after connecting, Meta is still synchronising, so marketing on `auto` goes
 * through the Cloud API (`mm_lite_sync_pending`). The window lives in D1 only
 * (`mm_lite_connections.sync_until`, joined through `wabas.connection_id`), so moving that one value
 * moves the window (tests do exactly that).
 *
 * Cached status and the end of the window. Anything cached about the WABA before or during the
 * window (KV `waba-status:*`, the WabaGate's memory and activation record) says nothing about what
 * Meta answers once the connection is synchronised: an `active` from before the connection would
 * make the first send after the window say `mm_lite_active`, a `not_onboarded` from during it would
 * keep it on the Cloud API for up to five minutes. So the status is dropped twice, with
 * `deactivate` (it is a new activation):
 *  - when connecting (src/connections/connect.ts), so nothing old shows during the window;
 *  - once when the window is first seen to have ended, by whoever sees it first (a send or
 *    `GET /v1/mm-lite/status`): a conditional UPDATE of `wabas.sync_settled_at` elects exactly one
 *    caller, which drops the status before deciding. Its decision then misses the cache, asks Meta
 *    through the WABA's Durable Object and, on ONBOARDED, says `mm_lite_activated`.
 * A caller that loses that race at the very instant the window ends may still read the old KV
 * entry (KV is eventually consistent at other edges, ~60 s); that is the same exposure as any
 * cache drop and only concerns sends racing the end of the window.
 */

interface WindowRow {
  connectionId: string;
  syncUntil: string;
  settledAt: string | null;
}

async function readWindow(env: Env, wabaId: string): Promise<WindowRow | null> {
  return env.DB.prepare(
    `SELECT w.connection_id AS connectionId, c.sync_until AS syncUntil, w.sync_settled_at AS settledAt
       FROM wabas w JOIN mm_lite_connections c ON c.id = w.connection_id
      WHERE w.id = ?`,
  )
    .bind(wabaId)
    .first<WindowRow>();
}

/** True when the window of this connection is over at `now` (ISO times sort lexically). */
export function windowOpen(syncUntil: string | null, now: string): syncUntil is string {
  return syncUntil !== null && syncUntil > now;
}

/**
 * The end of the WABA's open sync window, or null (no connection, or the window is over). The
 * first caller after the end settles it: see the module comment.
 */
export async function syncPendingUntil(env: Env, wabaId: string, now = Date.now()): Promise<string | null> {
  const row = await readWindow(env, wabaId);
  if (!row) return null;
  const at = isoNow(now);
  if (windowOpen(row.syncUntil, at)) return row.syncUntil;
  if (row.settledAt === null) await settleWindow(env, wabaId, row.connectionId, at);
  return null;
}

/**
 * What a routing decision needs: the window matters only where MM Lite could be chosen (a
 * marketing template of a bot without the manual restriction), so other sends skip the D1 read.
 */
export async function syncWindowFor(env: Env, bot: BotRow, template: TemplateInfo): Promise<string | null> {
  if (bot.mmLiteRestricted || template.category !== "MARKETING") return null;
  return syncPendingUntil(env, bot.wabaId);
}

/** Marks the window settled (one winner) and, for the winner, drops the WABA's cached status. */
export async function settleWindow(
  env: Env,
  wabaId: string,
  connectionId: string,
  at: string,
): Promise<void> {
  const claimed = await env.DB.prepare(
    `UPDATE wabas SET sync_settled_at = ?, updated_at = ?
      WHERE id = ? AND connection_id = ? AND sync_settled_at IS NULL`,
  )
    .bind(at, at, wabaId, connectionId)
    .run();
  if (claimed.meta.changes !== 1) return;
  try {
    await wabaGate(env, wabaId).dropStatus(wabaId, true);
    log.info("mm_lite_sync_window_ended", { wabaId, connectionId });
  } catch (err) {
    // Give the next caller the job again rather than deciding on a status that should be gone.
    await env.DB.prepare("UPDATE wabas SET sync_settled_at = NULL WHERE id = ? AND sync_settled_at = ?")
      .bind(wabaId, at)
      .run();
    log.warn("mm_lite_sync_settle_failed", { wabaId, error: err instanceof Error ? err.name : "unknown" });
  }
}
