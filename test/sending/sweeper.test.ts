import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { OUTCOME_UNKNOWN_TITLE } from "../../src/sending/outcome";
import { ABANDONED_CLAIM_MS, resolveAbandonedClaims } from "../../src/sending/sweeper";
import { gw, setupBot, type TestBot } from "../helpers";

let seq = 0;
/** A campaign with one message per entry: `intentAgoMs` null = never claimed. */
async function seedCampaign(bot: TestBot, status: "sending" | "cancelled", intentAgoMs: (number | null)[]) {
  seq += 1;
  const campaignId = `cmp_sweep${seq}`;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const ids = intentAgoMs.map((_, k) => `msg_sweep${seq}_${k}`);
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO campaigns (id, bot_id, name, type, template_name, template_language, template_category, route, route_reason, status, total, count_queued, created_at)
       VALUES (?, ?, 'sweep', 'batch', 'fall_sale', 'pt_BR', 'MARKETING', 'cloud_api', 'waba_not_onboarded', ?, ?, ?, ?)`,
    ).bind(campaignId, bot.id, status, ids.length, ids.length, iso(now)),
    ...intentAgoMs.map((ago, k) =>
      env.DB.prepare(
        `INSERT INTO messages (id, campaign_id, bot_id, seq, "to", params, route, route_reason, status, send_intent_at, attempts, created_at)
         VALUES (?, ?, ?, ?, ?, '["Ana","15/08"]', 'cloud_api', 'waba_not_onboarded', 'queued', ?, ?, ?)`,
      ).bind(
        ids[k],
        campaignId,
        bot.id,
        k,
        `+5511988${String(seq).padStart(3, "0")}${String(k).padStart(3, "0")}`,
        ago === null ? null : iso(now - ago),
        ago === null ? 0 : 1,
        iso(now),
      ),
    ),
  ]);
  return { campaignId, ids };
}

const row = (id: string) =>
  env.DB.prepare("SELECT status, error_title, failed_at FROM messages WHERE id = ?")
    .bind(id)
    .first<{ status: string; error_title: string | null; failed_at: string | null }>();

async function detail(bot: TestBot, campaignId: string) {
  const res = await gw(`/v1/campaigns/${campaignId}`, { key: bot.apiKey });
  return (await res.json()) as { status: string; counts: Record<string, number> };
}

describe("claims abandoned by a crashed job", () => {
  it("end as outcome unknown once older than any job can run; open claims and unclaimed messages are left alone", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const old = ABANDONED_CLAIM_MS + 60_000;
    // A cancelled campaign: its later jobs do nothing, so nobody else would ever resolve the claim.
    const cancelled = await seedCampaign(bot, "cancelled", [old]);
    await env.DB.prepare(
      "UPDATE messages SET status = 'cancelled' WHERE campaign_id = ? AND send_intent_at IS NULL",
    )
      .bind(cancelled.campaignId)
      .run();
    // A sending campaign: one abandoned claim, one claim a live job may still hold, one unclaimed.
    const sending = await seedCampaign(bot, "sending", [old, 30_000, null]);
    const resolved = await resolveAbandonedClaims(env);
    expect(resolved).toBeGreaterThanOrEqual(2); // other tests' leftovers may be old too
    for (const id of [cancelled.ids[0], sending.ids[0]] as string[])
      expect(await row(id)).toMatchObject({ status: "failed", error_title: OUTCOME_UNKNOWN_TITLE });
    expect((await row(sending.ids[1] as string))?.status).toBe("queued");
    expect((await row(sending.ids[2] as string))?.status).toBe("queued");
    expect(await detail(bot, cancelled.campaignId)).toMatchObject({
      status: "cancelled",
      counts: { queued: 0, failed: 1 },
    });
    expect((await detail(bot, sending.campaignId)).counts).toMatchObject({ queued: 2, failed: 1 });
    // Nothing left to resolve: a second sweep changes nothing.
    expect(await resolveAbandonedClaims(env)).toBe(0);
  });

  it("completes a sending campaign whose last queued message was the abandoned claim", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const { campaignId, ids } = await seedCampaign(bot, "sending", [ABANDONED_CLAIM_MS + 1_000]);
    await resolveAbandonedClaims(env);
    expect((await row(ids[0] as string))?.status).toBe("failed");
    expect(await detail(bot, campaignId)).toMatchObject({
      status: "completed",
      counts: { queued: 0, failed: 1 },
    });
  });

  it("finds them through the small partial index, not a scan of every message", async () => {
    const { results } = await env.DB.prepare(
      `EXPLAIN QUERY PLAN SELECT id FROM messages
       WHERE status = 'queued' AND send_intent_at IS NOT NULL AND wamid IS NULL AND send_intent_at < ?1 LIMIT 500`,
    )
      .bind(new Date().toISOString())
      .all<{ detail: string }>();
    expect(results.map((r) => r.detail).join(" | ")).toContain("messages_open_claims");
  });
});
