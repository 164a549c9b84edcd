import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { RouteReason } from "../routing/types";

/**
 * D1 is the record: bots, WABAs (with their MM Lite registration), campaigns, messages and
 * idempotency keys. KV only caches; the per-WABA Durable Object paces and serialises Meta queries.
 * Times are ISO-8601 UTC text. Booleans are 0/1 integers.
 */

export const bots = sqliteTable(
  "bots",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Public, random part of the API key used to find the bot; the secret part is only hashed. */
    keyId: text("key_id").notNull(),
    /** SHA-256 (hex) of the whole API key; compared in constant time. */
    keyHash: text("key_hash").notNull(),
    wabaId: text("waba_id").notNull(),
    phoneNumberId: text("phone_number_id").notNull(),
    businessId: text("business_id").notNull(),
    throughputMps: integer("throughput_mps").notNull().default(80),
    mmLiteRestricted: integer("mm_lite_restricted", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("bots_key_id").on(t.keyId), index("bots_waba").on(t.wabaId)],
);

export const wabas = sqliteTable("wabas", {
  id: text("id").primaryKey(),
  businessId: text("business_id").notNull(),
  type: text("type", { enum: ["shared", "obo"] }).notNull(),
  migrated: integer("migrated", { mode: "boolean" }).notNull().default(false),
  /** Meta's `marketing_messages_onboarding_status` at the last query. */
  onboardingStatus: text("onboarding_status"),
  /** Meta's older `marketing_messages_lite_api_status` at the last query. */
  legacyStatus: text("legacy_status"),
  checkedAt: text("checked_at"),
  /** When this gateway saw the WABA become active for MM Lite (null: not active). */
  activatedAt: text("activated_at"),
  /** The manual MM Lite connection that connected this WABA (null: never connected). */
  connectionId: text("connection_id"),
  /**
   * When the end of that connection's sync window was settled: the cached status dropped so the
   * next send asks Meta (src/connections/window.ts). Null while the window is open.
   */
  syncSettledAt: text("sync_settled_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/**
 * Manual MM Lite connections ("Connect MM Lite API"): what the business connected and the window
 * during which Meta synchronises (marketing goes through the Cloud API until `sync_until`).
 * Lists are JSON arrays of Graph ids.
 */
export const mmLiteConnections = sqliteTable(
  "mm_lite_connections",
  {
    id: text("id").primaryKey(),
    botId: text("bot_id").notNull(),
    businessId: text("business_id").notNull(),
    wabaIds: text("waba_ids", { mode: "json" }).$type<string[]>().notNull(),
    phoneNumberIds: text("phone_number_ids", { mode: "json" }).$type<string[]>().notNull(),
    adAccountIds: text("ad_account_ids", { mode: "json" }).$type<string[]>().notNull(),
    /** WABAs migrated from On-Behalf-Of to shared by this connection (JSON array). */
    migratedWabaIds: text("migrated_waba_ids", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: text("created_at").notNull(),
    /** End of the sync window (ISO): created + MM_LITE_SYNC_HOURS. */
    syncUntil: text("sync_until").notNull(),
  },
  (t) => [index("mm_lite_connections_bot").on(t.botId, t.id)],
);

export const campaigns = sqliteTable(
  "campaigns",
  {
    id: text("id").primaryKey(),
    botId: text("bot_id").notNull(),
    name: text("name").notNull(),
    type: text("type", { enum: ["individual", "batch"] }).notNull(),
    templateName: text("template_name").notNull(),
    templateLanguage: text("template_language").notNull(),
    templateCategory: text("template_category").notNull(),
    route: text("route", { enum: ["mm_lite", "cloud_api"] }).notNull(),
    routeReason: text("route_reason").$type<RouteReason>().notNull(),
    /** `draft` while the audience is being taken in (never listed; removed if intake fails). */
    status: text("status", { enum: ["draft", "sending", "completed", "cancelled"] }).notNull(),
    total: integer("total").notNull(),
    invalid: integer("invalid").notNull().default(0),
    duplicates: integer("duplicates").notNull().default(0),
    createdAt: text("created_at").notNull(),
    completedAt: text("completed_at"),
    // Live counters, maintained by triggers on `messages` (migrations/0001_counters.sql): reading a
    // campaign's performance never scans its messages.
    countQueued: integer("count_queued").notNull().default(0),
    countAccepted: integer("count_accepted").notNull().default(0),
    countSent: integer("count_sent").notNull().default(0),
    countDelivered: integer("count_delivered").notNull().default(0),
    countRead: integer("count_read").notNull().default(0),
    countFailed: integer("count_failed").notNull().default(0),
    countCancelled: integer("count_cancelled").notNull().default(0),
    countInvalid: integer("count_invalid").notNull().default(0),
    funnelAccepted: integer("funnel_accepted").notNull().default(0),
    funnelSent: integer("funnel_sent").notNull().default(0),
    funnelDelivered: integer("funnel_delivered").notNull().default(0),
    funnelRead: integer("funnel_read").notNull().default(0),
    confirmedMmLite: integer("confirmed_mm_lite").notNull().default(0),
    confirmedCloudApi: integer("confirmed_cloud_api").notNull().default(0),
  },
  (t) => [index("campaigns_bot").on(t.botId, t.id)],
);

/** Failed recipients per error code (code -1: no Meta code, e.g. an unknown send outcome). */
export const campaignErrors = sqliteTable(
  "campaign_errors",
  {
    campaignId: text("campaign_id").notNull(),
    code: integer("code").notNull(),
    title: text("title"),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.code] })],
);

/** Per-minute buckets of each stage's times (`minute` = `YYYY-MM-DDTHH:MM:00Z`). */
export const campaignTimeline = sqliteTable(
  "campaign_timeline",
  {
    campaignId: text("campaign_id").notNull(),
    minute: text("minute").notNull(),
    accepted: integer("accepted").notNull().default(0),
    sent: integer("sent").notNull().default(0),
    delivered: integer("delivered").notNull().default(0),
    read: integer("read").notNull().default(0),
    failed: integer("failed").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.minute] })],
);

export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    botId: text("bot_id").notNull(),
    /** Position in the audience; report rows follow it. */
    seq: integer("seq").notNull(),
    /** E.164 for valid recipients; the number as written for invalid ones. */
    to: text("to").notNull(),
    /** Frozen template parameters (JSON array of strings) or Meta components (JSON). */
    params: text("params"),
    components: text("components"),
    route: text("route", { enum: ["mm_lite", "cloud_api"] }).notNull(),
    routeReason: text("route_reason").$type<RouteReason>().notNull(),
    status: text("status", {
      enum: ["queued", "accepted", "sent", "delivered", "read", "failed", "cancelled", "invalid"],
    }).notNull(),
    /**
     * Exactly-once bookkeeping: set (with the attempt's time) right before Meta is called and
     * cleared only when Meta answered "not accepted". A message found with an intent but no wamid
     * may have been accepted: it is never sent again blindly.
     */
    sendIntentAt: text("send_intent_at"),
    attempts: integer("attempts").notNull().default(0),
    wamid: text("wamid"),
    confirmedRoute: text("confirmed_route", { enum: ["mm_lite", "cloud_api"] }),
    errorCode: integer("error_code"),
    errorTitle: text("error_title"),
    acceptedAt: text("accepted_at"),
    sentAt: text("sent_at"),
    deliveredAt: text("delivered_at"),
    readAt: text("read_at"),
    failedAt: text("failed_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("messages_campaign_seq").on(t.campaignId, t.seq),
    // Duplicates of a campaign's audience are dropped by this index (INSERT … ON CONFLICT DO NOTHING).
    uniqueIndex("messages_campaign_to").on(t.campaignId, t.to).where(sql`status <> 'invalid'`),
    uniqueIndex("messages_wamid").on(t.wamid).where(sql`wamid IS NOT NULL`),
    // Claims still open (intent recorded, no wamid, not resolved): only the blocks being sent right
    // now, so the index stays tiny; the cron finds claims abandoned by a crashed job through it.
    index("messages_open_claims")
      .on(t.sendIntentAt)
      .where(sql`status = 'queued' AND send_intent_at IS NOT NULL AND wamid IS NULL`),
  ],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    botId: text("bot_id").notNull(),
    key: text("key").notNull(),
    /** SHA-256 of the canonical JSON of the request: "same body" means the same JSON value. */
    requestHash: text("request_hash").notNull(),
    /** null while the first request is still being processed. */
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.botId, t.key] }), index("idempotency_created").on(t.createdAt)],
);

export type CampaignErrorRow = typeof campaignErrors.$inferSelect;
export type CampaignTimelineRow = typeof campaignTimeline.$inferSelect;
export type BotRow = typeof bots.$inferSelect;
export type WabaRow = typeof wabas.$inferSelect;
export type MmLiteConnectionRow = typeof mmLiteConnections.$inferSelect;
export type CampaignRow = typeof campaigns.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;

/**
 * Transactional outbox for queue jobs: written in the same D1 batch as the messages they send,
 * deleted once the queue has taken them. The sweeper re-sends rows the queue never got, so a
 * failed enqueue can delay a message but never lose it.
 */
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    body: text("body").notNull(),
    delaySeconds: integer("delay_seconds").notNull().default(0),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("outbox_created").on(t.createdAt)],
);

// --- Meta webhooks (src/webhooks/) ---

/**
 * Webhook bodies too large for one queue message (128 KB), or taken while the queue refused them:
 * the POST stores the raw body here and enqueues its id. The consumer deletes the row once applied
 * (a dead letter moves it to `webhook_dead_letters`); the cron re-enqueues rows left behind.
 */
export const webhookInbox = sqliteTable(
  "webhook_inbox",
  {
    id: text("id").primaryKey(),
    body: text("body").notNull(),
    receivedAt: text("received_at").notNull(),
    /** Last hand-over to the queue (null: never handed over); the cron re-enqueues stale rows. */
    enqueuedAt: text("enqueued_at"),
  },
  (t) => [index("webhook_inbox_enqueued").on(t.enqueuedAt)],
);

/**
 * Statuses whose wamid no send has recorded yet (a status can beat the send's own record of it).
 * Applied right after the send records the wamid; purged after 24 h. `payload` is the normalised
 * status (see webhooks/notification.ts), one row per status.
 */
export const pendingStatuses = sqliteTable(
  "pending_statuses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    wamid: text("wamid").notNull(),
    payload: text("payload").notNull(),
    receivedAt: text("received_at").notNull(),
  },
  (t) => [index("pending_statuses_wamid").on(t.wamid), index("pending_statuses_received").on(t.receivedAt)],
);

/**
 * The pricing evidence behind a message's `confirmed_route`: the latest status carrying pricing wins
 * (by its timestamp; a tie goes to the later arrival), so its time is kept here.
 */
export const messagePricing = sqliteTable(
  "message_pricing",
  {
    wamid: text("wamid").primaryKey(),
    route: text("route", { enum: ["mm_lite", "cloud_api"] }).notNull(),
    /** The status's time (ISO) that carried this pricing. */
    at: text("at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("message_pricing_updated").on(t.updatedAt)],
);

/**
 * Marketing opt-outs per WABA and WhatsApp user (`wa_id`: digits, no `+`), from `user_preferences`
 * webhooks and from sends Meta refused with 131050. The latest event wins (by its time).
 */
export const marketingOptOuts = sqliteTable(
  "marketing_opt_outs",
  {
    wabaId: text("waba_id").notNull(),
    waId: text("wa_id").notNull(),
    optedOut: integer("opted_out", { mode: "boolean" }).notNull(),
    /** Time of the event that set the current value (ISO). */
    at: text("at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.wabaId, t.waId] })],
);

/** Webhook queue messages that exhausted their retries: kept so an operator can replay them. */
export const webhookDeadLetters = sqliteTable(
  "webhook_dead_letters",
  {
    id: text("id").primaryKey(),
    /** The raw notification, or null when it stays in `webhook_inbox` under `inboxId`. */
    body: text("body"),
    inboxId: text("inbox_id"),
    receivedAt: text("received_at"),
    attempts: integer("attempts").notNull(),
    deadAt: text("dead_at").notNull(),
  },
  (t) => [index("webhook_dead_letters_dead").on(t.deadAt)],
);

export type MarketingOptOutRow = typeof marketingOptOuts.$inferSelect;
