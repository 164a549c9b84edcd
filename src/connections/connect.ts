import { eq, inArray } from "drizzle-orm";
import { getConfig } from "../config";
import { db } from "../db/client";
import { type BotRow, type MmLiteConnectionRow, mmLiteConnections, wabas } from "../db/schema";
import { AppError } from "../lib/errors";
import { newId } from "../lib/ids";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { wabaGate } from "../routing/service";
import { windowOpen } from "./window";

export interface ConnectRequest {
  businessId: string;
  wabaIds: string[];
  phoneNumberIds: string[];
  adAccountIds: string[];
  acceptMigration: boolean;
}

export interface ConnectionView {
  id: string;
  status: "syncing" | "connected";
  businessId: string;
  syncUntil: string;
  createdAt: string;
  wabas: { id: string; type: "shared" | "obo"; migrated: boolean }[];
  phoneNumberIds: string[];
  adAccountIds: string[];
}

export interface ConnectResult {
  created: boolean;
  connection: ConnectionView;
}

const HOUR_MS = 3600 * 1000;

/**
 * "Connect MM Lite API" (api.md "MM Lite", "Precise rules: Connections"). Checks, in order:
 *  1. the bot's own business, WABA and phone number only → 403 `forbidden_waba` (before anything
 *     else, so the answer never depends on another tenant's WABA);
 *  2. the WABA already connected → the existing connection (200, its window unchanged);
 *  3. an On-Behalf-Of WABA needs `acceptMigration: true` → 409 `obo_migration_required` listing
 *     `wabaIds`; with it, the WABA becomes `shared` with `migrated: true`;
 *  4. the connection is recorded and its sync window opens for MM_LITE_SYNC_HOURS.
 * `adAccountIds` (and the other lists) must not be empty: the schema refuses that with 400.
 */
export async function connectMmLite(
  env: Env,
  bot: BotRow,
  req: ConnectRequest,
  now = Date.now(),
): Promise<ConnectResult> {
  const wabaIds = unique(req.wabaIds);
  const phoneNumberIds = unique(req.phoneNumberIds);
  const adAccountIds = unique(req.adAccountIds);

  const foreignWabas = wabaIds.filter((id) => id !== bot.wabaId);
  const foreignNumbers = phoneNumberIds.filter((id) => id !== bot.phoneNumberId);
  if (foreignWabas.length > 0 || foreignNumbers.length > 0) {
    throw new AppError(403, "forbidden_waba", "WABA or phone number not allowed", {
      detail: "A bot can connect only its own WABA and phone number",
      extra: {
        ...(foreignWabas.length > 0 ? { wabaIds: foreignWabas } : {}),
        ...(foreignNumbers.length > 0 ? { phoneNumberIds: foreignNumbers } : {}),
      },
    });
  }

  const d = db(env);
  const rows = await d.select().from(wabas).where(inArray(wabas.id, wabaIds));
  const waba = rows[0];
  const owner = waba?.businessId ?? bot.businessId;
  if (req.businessId !== owner) {
    throw new AppError(403, "forbidden_waba", "WABA not allowed", {
      detail: `WABA ${bot.wabaId} does not belong to business ${req.businessId}`,
      extra: { wabaIds },
    });
  }
  if (!waba) {
    // Every bot is registered with its WABA (POST /admin/bots); a missing row is a broken record.
    throw new Error("bot without a WABA record");
  }

  if (waba.connectionId) {
    return { created: false, connection: await connectionView(env, waba.connectionId, now) };
  }

  const obo = rows.filter((w) => w.type === "obo").map((w) => w.id);
  if (obo.length > 0 && !req.acceptMigration) {
    throw new AppError(409, "obo_migration_required", "On-Behalf-Of WABA must be migrated", {
      detail:
        "MM Lite needs shared WABAs. Migrating gives the business full access to the WABA (including " +
        'deleting it or its numbers); send "acceptMigration": true to accept the migration.',
      extra: { wabaIds: obo },
    });
  }

  const at = isoNow(now);
  const row: MmLiteConnectionRow = {
    id: newId("mmc", now),
    botId: bot.id,
    businessId: req.businessId,
    wabaIds,
    phoneNumberIds,
    adAccountIds,
    migratedWabaIds: obo,
    createdAt: at,
    syncUntil: isoNow(now + getConfig(env).MM_LITE_SYNC_HOURS * HOUR_MS),
  };

  // One transaction, guarded against a concurrent connection of the same WABA: the connection is
  // inserted only while the WABA is unconnected, and the WABA is claimed in the same batch.
  const [, claim] = await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO mm_lite_connections
         (id, bot_id, business_id, waba_ids, phone_number_ids, ad_account_ids, migrated_waba_ids, created_at, sync_until)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
        WHERE NOT EXISTS (SELECT 1 FROM wabas WHERE id = ? AND connection_id IS NOT NULL)`,
    ).bind(
      row.id,
      row.botId,
      row.businessId,
      JSON.stringify(row.wabaIds),
      JSON.stringify(row.phoneNumberIds),
      JSON.stringify(row.adAccountIds),
      JSON.stringify(row.migratedWabaIds),
      row.createdAt,
      row.syncUntil,
      waba.id,
    ),
    env.DB.prepare(
      `UPDATE wabas
          SET connection_id = ?, sync_settled_at = NULL,
              migrated = CASE WHEN type = 'obo' THEN 1 ELSE migrated END,
              type = 'shared', updated_at = ?
        WHERE id = ? AND connection_id IS NULL`,
    ).bind(row.id, at, waba.id),
  ]);
  if (claim?.meta.changes !== 1) {
    // Another request connected it first: answer with that connection.
    const current = await d
      .select({ connectionId: wabas.connectionId })
      .from(wabas)
      .where(eq(wabas.id, waba.id))
      .get();
    const existing = current?.connectionId;
    if (!existing) throw new Error("connection race without a winner");
    return { created: false, connection: await connectionView(env, existing, now) };
  }

  // A connection restarts activation: forget what was cached about the WABA so nothing from before
  // the connection shows during the window (the window's end drops it again: ./window.ts).
  try {
    await wabaGate(env, waba.id).dropStatus(waba.id, true);
  } catch (err) {
    log.warn("mm_lite_connect_drop_failed", {
      wabaId: waba.id,
      error: err instanceof Error ? err.name : "unknown",
    });
  }
  log.info("mm_lite_connected", {
    botId: bot.id,
    wabaId: waba.id,
    connectionId: row.id,
    migrated: obo.length > 0,
  });
  return { created: true, connection: await connectionView(env, row.id, now) };
}

/** A stored connection with its WABAs as they are now. */
export async function connectionView(env: Env, id: string, now = Date.now()): Promise<ConnectionView> {
  const d = db(env);
  const row = await d.select().from(mmLiteConnections).where(eq(mmLiteConnections.id, id)).get();
  if (!row) throw new Error(`connection ${id} missing`);
  const wabaRows = await d.select().from(wabas).where(inArray(wabas.id, row.wabaIds));
  const byId = new Map(wabaRows.map((w) => [w.id, w]));
  return {
    id: row.id,
    status: windowOpen(row.syncUntil, isoNow(now)) ? "syncing" : "connected",
    businessId: row.businessId,
    syncUntil: row.syncUntil,
    createdAt: row.createdAt,
    wabas: row.wabaIds.map((wabaId) => {
      const w = byId.get(wabaId);
      return { id: wabaId, type: w?.type ?? "shared", migrated: w?.migrated ?? false };
    }),
    phoneNumberIds: row.phoneNumberIds,
    adAccountIds: row.adAccountIds,
  };
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}
