/**
 * Issue #4's acceptance demand, black-box: "after a campaign and the webhooks for it (some
 * duplicated, some out of order, some failed with 131049), `counts`, `funnel`, `rates`, `errors`,
 * `confirmedRoutes` and every row of `report.csv` match what was posted exactly."
 *
 * The gateway runs alone under `wrangler dev` against the independent Meta fake (not sim/). The
 * expected figures come from a small model written here from docs/api.md and
 * docs/meta-platform.md (nothing is imported from src/): each recipient gets a scripted sequence of
 * status webhooks, the model says what the campaign and each report row must then show, and the
 * test compares with exact (deep) equality. The webhooks are posted in waves (so out-of-order
 * statuses meet the stored row as well as each other inside one queue batch), and the figures are
 * checked exactly after every wave, not only at the end.
 *
 * Readings of api.md the model makes where the text leaves room (the gateway makes the same ones):
 * - A stage's time is the time Meta reported for that stage, or, when Meta skipped it, the earliest
 *   later stage's time ("reaching a stage fills every earlier stage's time that is still empty");
 *   a real `delivered` that arrives after its `read` still sets `deliveredAt` to what Meta posted.
 * - `failed` is not a ladder stage: it fills no earlier time, and it is final (a `sent` arriving
 *   after it records `sentAt` but the status stays `failed`).
 * - "The latest one sets confirmedRoute" = the priced status with the latest `timestamp`, whatever
 *   order the webhooks arrived in (Meta does not guarantee an order).
 * - `errors` is "most frequent first"; codes with equal counts (mid-way states only) may come in
 *   any order, so they are compared in code order.
 * - Report rows are compared as a set keyed by phone (api.md gives no row order); an invalid
 *   recipient's row shows the campaign's route and reason and `invalid_phone` as its error title.
 * - Times are compared as instants: ISO-8601 with or without milliseconds is the same time.
 */
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMeta, type StatusEvent, statusNotification } from "./fake-meta";
import { type Called, call, createBot, expectProblem, ISO_UTC, type TestBot } from "./helpers";
import { type Gateway, startGateway } from "./wrangler";

// papaparse ships no types and the e2e project has none installed (src/ declares only the core
// parser for the Worker build); the one call used here is typed locally.
const Papa = createRequire(import.meta.url)("papaparse") as {
  parse(
    input: string,
    config: { header: false; newline: "\r\n"; skipEmptyLines: false },
  ): { data: string[][]; errors: { message: string; row?: number }[] };
};

let fake: FakeMeta;
let gw: Gateway;

beforeAll(async () => {
  fake = await FakeMeta.start();
  gw = await startGateway({
    graphUrl: fake.graphUrl("v25.0"),
    metaAccessToken: fake.accessToken,
    appSecret: fake.appSecret,
  });
});

afterAll(async () => {
  await gw?.stop();
  await fake?.close();
});

// ------------------------------------------------------------------ the model (api.md)

type Stage = "sent" | "delivered" | "read";
type Posted = Stage | "failed";
type Route = "mm_lite" | "cloud_api";

const RANK: Record<Stage, number> = { sent: 1, delivered: 2, read: 3 };

const E131049 = {
  code: 131049,
  title: "This message was not delivered to maintain healthy ecosystem engagement.",
};
// Free text from Meta with a comma and quotes: the report must quote it (RFC 4180).
const E131026 = { code: 131026, title: 'Message undeliverable, "receiver incapable"' };
const E131047 = { code: 131047, title: "Re-engagement message" };

/** One status as Meta posts it for one message (`ts` in Unix seconds). */
interface PlannedStatus {
  status: Posted;
  ts: number;
  /** `pricing.category`; absent → no pricing. */
  category?: string;
  error?: { code: number; title: string };
}

/** A message's four reference times (Unix seconds), ordered the way Meta's clock would be. */
interface Times {
  sent: number;
  delivered: number;
  read: number;
  failed: number;
}

/**
 * Scenarios: each returns the statuses of one message **in arrival order** (duplicates are added
 * later). `cat` is the pricing category of the product that carried the message.
 */
const SCENARIOS: { name: string; count: number; plan: (t: Times, cat: string) => PlannedStatus[] }[] = [
  {
    name: "sent, delivered, read in order",
    count: 28,
    plan: (t, cat) => [
      { status: "sent", ts: t.sent, category: cat },
      { status: "delivered", ts: t.delivered, category: cat },
      { status: "read", ts: t.read },
    ],
  },
  {
    name: "read before delivered before sent",
    count: 8,
    plan: (t, cat) => [
      { status: "read", ts: t.read },
      { status: "delivered", ts: t.delivered, category: cat },
      { status: "sent", ts: t.sent, category: cat },
    ],
  },
  {
    name: "delivered before sent",
    count: 8,
    plan: (t, cat) => [
      { status: "delivered", ts: t.delivered, category: cat },
      { status: "sent", ts: t.sent, category: cat },
    ],
  },
  { name: "read only", count: 5, plan: (t) => [{ status: "read", ts: t.read }] },
  {
    name: "sent, read (delivered skipped)",
    count: 5,
    plan: (t, cat) => [
      { status: "sent", ts: t.sent, category: cat },
      { status: "read", ts: t.read },
    ],
  },
  {
    name: "delivered only",
    count: 8,
    plan: (t, cat) => [{ status: "delivered", ts: t.delivered, category: cat }],
  },
  { name: "sent only", count: 8, plan: (t, cat) => [{ status: "sent", ts: t.sent, category: cat }] },
  {
    name: "sent, then failed 131049",
    count: 12,
    plan: (t, cat) => [
      { status: "sent", ts: t.sent, category: cat },
      { status: "failed", ts: t.failed, error: E131049 },
    ],
  },
  {
    name: "failed 131049 only",
    count: 6,
    plan: (t) => [{ status: "failed", ts: t.failed, error: E131049 }],
  },
  {
    name: "failed 131049, then its earlier sent",
    count: 4,
    plan: (t) => [
      { status: "failed", ts: t.failed, error: E131049 },
      { status: "sent", ts: t.sent },
    ],
  },
  {
    name: "sent, then failed 131026",
    count: 3,
    plan: (t) => [
      { status: "sent", ts: t.sent },
      { status: "failed", ts: t.failed, error: E131026 },
    ],
  },
  {
    name: "failed 131047 only",
    count: 1,
    plan: (t) => [{ status: "failed", ts: t.failed, error: E131047 }],
  },
  // No webhook at all: stays `accepted`, unconfirmed. The bad-signature posts aim at these.
  { name: "no webhook", count: 8, plan: () => [] },
  // Two priced statuses with different categories: the later timestamp decides.
  {
    name: "priced twice, arriving in time order",
    count: 2,
    plan: (t) => [
      { status: "sent", ts: t.sent, category: "marketing" },
      { status: "delivered", ts: t.delivered, category: "marketing_lite" },
    ],
  },
  {
    name: "priced twice, later MM Lite pricing arriving first",
    count: 2,
    plan: (t) => [
      { status: "delivered", ts: t.delivered, category: "marketing_lite" },
      { status: "sent", ts: t.sent, category: "marketing" },
    ],
  },
  {
    name: "priced twice, later Cloud API pricing arriving first",
    count: 2,
    plan: (t) => [
      { status: "delivered", ts: t.delivered, category: "marketing" },
      { status: "sent", ts: t.sent, category: "marketing_lite" },
    ],
  },
];
const VALID = SCENARIOS.reduce((n, s) => n + s.count, 0); // 110

/** What api.md says a message looks like after `statuses` (any order, duplicates included). */
interface ExpectedMessage {
  status: "accepted" | Stage | "failed";
  sentAt: number | null;
  deliveredAt: number | null;
  readAt: number | null;
  failedAt: number | null;
  error: { code: number; title: string } | null;
  confirmedRoute: Route | null;
}

function expectedMessage(statuses: readonly PlannedStatus[]): ExpectedMessage {
  const stageTime = (min: number): number | null => {
    const times = statuses.filter((s) => s.status !== "failed" && RANK[s.status] >= min).map((s) => s.ts);
    return times.length > 0 ? Math.min(...times) : null;
  };
  const failed = statuses.find((s) => s.status === "failed");
  let top: Stage | null = null;
  for (const s of statuses) {
    if (s.status !== "failed" && (top === null || RANK[s.status] > RANK[top])) top = s.status;
  }
  let priced: PlannedStatus | undefined;
  for (const s of statuses) {
    if (s.category !== undefined && (priced === undefined || s.ts > priced.ts)) priced = s;
  }
  return {
    status: failed ? "failed" : (top ?? "accepted"),
    sentAt: stageTime(RANK.sent),
    deliveredAt: stageTime(RANK.delivered),
    readAt: stageTime(RANK.read),
    failedAt: failed?.ts ?? null,
    error: failed?.error ?? null,
    confirmedRoute:
      priced?.category === undefined ? null : priced.category === "marketing_lite" ? "mm_lite" : "cloud_api",
  };
}

/** A valid recipient: what the fake saw of its send plus its scripted webhooks. */
interface Recipient {
  phone: string;
  digits: string;
  wamid: string;
  carriedBy: Route;
  route: Route;
  routeReason: string;
  /** The gateway's own time (not Meta's): taken from the report before any webhook. */
  acceptedAt: string;
  scenario: string;
  /** Arrival order, duplicates included. */
  statuses: PlannedStatus[];
}

interface Performance {
  counts: Record<string, number>;
  funnel: Record<string, number>;
  rates: Record<string, number>;
  confirmedRoutes: Record<string, number>;
  errors: { code: number; title: string; count: number }[];
  timeline: Record<string, unknown>[];
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();
const minuteOf = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();

/** An ISO-8601 UTC time as one canonical string (so `…:05Z` equals `…:05.000Z`); anything else as is. */
function instant(v: unknown): unknown {
  return typeof v === "string" && ISO_UTC.test(v) ? new Date(v).toISOString() : v;
}

function expectedPerformance(recipients: readonly Recipient[], invalid: number): Performance {
  const all = recipients.map((r) => ({ r, m: expectedMessage(r.statuses) }));
  const counts = {
    queued: 0,
    accepted: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    failed: 0,
    cancelled: 0,
    invalid,
  };
  for (const { m } of all) counts[m.status]++;
  const funnel = {
    accepted: all.length, // every valid recipient has its acceptedAt (waited for before)
    sent: all.filter(({ m }) => m.sentAt !== null).length,
    delivered: all.filter(({ m }) => m.deliveredAt !== null).length,
    read: all.filter(({ m }) => m.readAt !== null).length,
  };
  const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);
  const rates = {
    delivery: ratio(funnel.delivered, funnel.accepted),
    read: ratio(funnel.read, funnel.delivered),
    failure: ratio(counts.failed, recipients.length),
  };
  const confirmedRoutes = {
    mm_lite: all.filter(({ m }) => m.confirmedRoute === "mm_lite").length,
    cloud_api: all.filter(({ m }) => m.confirmedRoute === "cloud_api").length,
  };
  const byCode = new Map<number, { code: number; title: string; count: number }>();
  for (const { m } of all) {
    if (!m.error) continue;
    const e = byCode.get(m.error.code) ?? { code: m.error.code, title: m.error.title, count: 0 };
    e.count++;
    byCode.set(m.error.code, e);
  }
  const errors = byFrequency([...byCode.values()]).slice(0, 10);

  const buckets = new Map<string, Record<string, number>>();
  const bump = (ms: number, stage: string) => {
    const at = minuteOf(ms);
    const b = buckets.get(at) ?? { accepted: 0, sent: 0, delivered: 0, read: 0, failed: 0 };
    b[stage] = (b[stage] ?? 0) + 1;
    buckets.set(at, b);
  };
  for (const { r, m } of all) {
    bump(Date.parse(r.acceptedAt), "accepted");
    if (m.sentAt !== null) bump(m.sentAt * 1000, "sent");
    if (m.deliveredAt !== null) bump(m.deliveredAt * 1000, "delivered");
    if (m.readAt !== null) bump(m.readAt * 1000, "read");
    if (m.failedAt !== null) bump(m.failedAt * 1000, "failed");
  }
  const timeline = [...buckets].sort(([a], [b]) => (a < b ? -1 : 1)).map(([at, b]) => ({ at, ...b }));
  return { counts, funnel, rates, confirmedRoutes, errors, timeline };
}

/**
 * The campaign's figures as compared: the documented objects whole, and the timeline reduced to
 * its non-empty minutes (api.md does not say whether empty minutes are listed) with the stage
 * counters it documents (`sent` included: "each stage's times").
 */
function performanceOf(detail: any): Performance {
  const timeline = (Array.isArray(detail?.timeline) ? detail.timeline : [])
    .map((b: any) => ({
      at: instant(b?.at),
      accepted: b?.accepted,
      sent: b?.sent,
      delivered: b?.delivered,
      read: b?.read,
      failed: b?.failed,
    }))
    .filter((b: Record<string, unknown>) =>
      ["accepted", "sent", "delivered", "read", "failed"].some((k) => b[k] !== 0),
    )
    .sort((a: any, b: any) => (String(a.at) < String(b.at) ? -1 : 1));
  // api.md orders `errors` "most frequent first" and says nothing of ties (a mid-way state has
  // 131026 and 131047 once each): codes with equal counts are compared in code order. A list that
  // is not most-frequent-first is left as it came, so the comparison shows it.
  const errors: unknown = detail?.errors;
  const ordered =
    Array.isArray(errors) &&
    errors.every((e, i) => i === 0 || (errors[i - 1] as any)?.count >= (e as any)?.count);
  return {
    counts: detail?.counts,
    funnel: detail?.funnel,
    rates: detail?.rates,
    confirmedRoutes: detail?.confirmedRoutes,
    errors: ordered ? byFrequency(errors as Performance["errors"]) : (errors as Performance["errors"]),
    timeline,
  };
}

/** Most frequent first; equal counts in code order (a copy). */
function byFrequency<T extends { code: number; count: number }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => b.count - a.count || a.code - b.code);
}

// ------------------------------------------------------------------ report.csv

const REPORT_HEADER = [
  "phone",
  "status",
  "route",
  "route_reason",
  "confirmed_route",
  "wamid",
  "error_code",
  "error_title",
  "accepted_at",
  "sent_at",
  "delivered_at",
  "read_at",
  "failed_at",
];
const TIME_COLUMNS = new Set(["accepted_at", "sent_at", "delivered_at", "read_at", "failed_at"]);

/** api.md's CSV-injection rule: such cells get a leading `'`, except a valid E.164 phone. */
function neutralised(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

interface Report {
  header: string[];
  /** Rows keyed by their phone cell; time cells canonicalised. */
  rows: Map<string, string[]>;
}

async function fetchReport(bot: TestBot, campaignId: string): Promise<Report> {
  const r = await call(gw, "GET", `/v1/campaigns/${campaignId}/report.csv`, { key: bot.apiKey });
  expect(r.status, r.text).toBe(200);
  expect(r.res.headers.get("content-type") ?? "").toMatch(/^text\/csv\b/);
  // RFC 4180: every record ends in CRLF, no bare CR or LF outside quoted fields (none are multiline here).
  expect(r.text.endsWith("\r\n"), "report ends with CRLF").toBe(true);
  expect(r.text.replaceAll("\r\n", ""), "no bare CR / LF").not.toMatch(/[\r\n]/);
  const parsed = Papa.parse(r.text.slice(0, -2), { header: false, newline: "\r\n", skipEmptyLines: false });
  expect(parsed.errors, "CSV parse errors").toEqual([]);
  const [header, ...data] = parsed.data;
  const rows = new Map<string, string[]>();
  for (const row of data) {
    expect(row, `row ${row.join(",")}`).toHaveLength(REPORT_HEADER.length);
    const key = row[0] as string;
    expect(rows.has(key), `one row per recipient: ${key} twice`).toBe(false);
    rows.set(
      key,
      row.map((cell, i) => (TIME_COLUMNS.has(REPORT_HEADER[i] as string) ? String(instant(cell)) : cell)),
    );
  }
  return { header: header ?? [], rows };
}

function expectedRow(r: Recipient): string[] {
  const m = expectedMessage(r.statuses);
  const t = (s: number | null) => (s === null ? "" : iso(s));
  return [
    r.phone,
    m.status,
    r.route,
    r.routeReason,
    m.confirmedRoute ?? "",
    r.wamid,
    m.error ? String(m.error.code) : "",
    m.error ? neutralised(m.error.title) : "",
    new Date(r.acceptedAt).toISOString(),
    t(m.sentAt),
    t(m.deliveredAt),
    t(m.readAt),
    t(m.failedAt),
  ];
}

// ------------------------------------------------------------------ webhooks

/** Deterministic generator, so a failure replays with the same plan. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** One status in Meta's JSON, built once so a duplicate is byte-identical to its original. */
function statusJson(bot: TestBot, wamid: string, digits: string, s: PlannedStatus): unknown {
  const event: StatusEvent = {
    wamid,
    status: s.status,
    recipientId: digits,
    timestamp: s.ts,
    ...(s.category !== undefined ? { pricingCategory: s.category } : {}),
    ...(s.error ? { errors: [s.error] } : {}),
  };
  const n = statusNotification({ wabaId: bot.wabaId, phoneNumberId: bot.phoneNumberId, statuses: [event] });
  const statuses = n.entry[0]?.changes[0]?.value.statuses;
  if (!Array.isArray(statuses) || statuses.length !== 1) throw new Error("statusNotification changed shape");
  return statuses[0];
}

/**
 * A notification batching `statuses` over several entries and changes, the way Meta may group
 * them: `entries` groups, each split into two `messages` changes when `twoChanges` and it can be.
 */
function batchedNotification(bot: TestBot, statuses: unknown[], entries: number, twoChanges: boolean) {
  const change = (list: unknown[]) => ({
    field: "messages",
    value: {
      messaging_product: "whatsapp",
      metadata: { display_phone_number: "15550783881", phone_number_id: bot.phoneNumberId },
      statuses: list,
    },
  });
  const groups: unknown[][] = [];
  const size = Math.ceil(statuses.length / entries);
  for (let i = 0; i < statuses.length; i += size) groups.push(statuses.slice(i, i + size));
  return {
    object: "whatsapp_business_account",
    entry: groups.map((g) => {
      const half = Math.ceil(g.length / 2);
      const changes =
        twoChanges && g.length > 1 ? [change(g.slice(0, half)), change(g.slice(half))] : [change(g)];
      return { id: bot.wabaId, time: Math.floor(Date.now() / 1000), changes };
    }),
  };
}

async function called(res: Response): Promise<Called> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { res, status: res.status, text, json };
}

const unknownWamid = (n: number) =>
  `wamid.${Buffer.from(`e2e-unknown-${n}-${Date.now()}`).toString("base64")}`;

// ------------------------------------------------------------------ the test

/** State handed from one step to the next (the steps run in order on one campaign). */
const run: {
  bot?: TestBot;
  campaignId?: string;
  campaign?: any;
  recipients?: Recipient[];
  invalidRows?: string[][];
  before?: Performance;
} = {};

const INVALID_AS_WRITTEN = ["12ab", "=1+1", "+55 11 99"];
const FALLBACKS = 3;

describe("delivery: a campaign and its webhooks (issue #4)", () => {
  it("campaign of 110 valid recipients (3 invalid, 2 duplicates): every one accepted with one wamid", async () => {
    const bot = await createBot(gw, fake, { onboarding: "ONBOARDED" });
    run.bot = bot;
    // A few MM Lite refusals: those messages go through the Cloud API (mm_lite_rejected_fallback),
    // so the campaign mixes both routes.
    const fault = fake.addFault({
      on: "send_mm_lite",
      phoneNumberId: bot.phoneNumberId,
      times: FALLBACKS,
      httpStatus: 400,
      code: 131055,
    });

    const phones = Array.from({ length: VALID }, (_, i) => `+55119${String(70_000_000 + i * 37)}`);
    const audience: { to: string; params: string[] }[] = phones.map((to, i) => ({
      to,
      params: [`Cliente ${i}`, "15/08"],
    }));
    // Invalid rows stay as recipients; duplicates (one written differently) are dropped.
    audience.splice(5, 0, { to: INVALID_AS_WRITTEN[0] as string, params: ["X", "15/08"] });
    audience.splice(40, 0, { to: INVALID_AS_WRITTEN[1] as string, params: ["Y", "15/08"] });
    audience.splice(77, 0, { to: INVALID_AS_WRITTEN[2] as string, params: ["Z", "15/08"] });
    audience.push({ to: phones[3] as string, params: ["Dup", "15/08"] });
    const p10 = phones[10] as string;
    audience.push({
      to: `${p10.slice(0, 3)} ${p10.slice(3, 5)} ${p10.slice(5, 10)}-${p10.slice(10)}`,
      params: ["Dup", "15/08"],
    });

    const created = await call(gw, "POST", "/v1/campaigns", {
      key: bot.apiKey,
      body: {
        name: "issue 4 delivery",
        template: { name: "fall_sale", language: "pt_BR" },
        audience,
        route: "auto",
      },
    });
    expect(created.status, created.text).toBe(202);
    expect(created.json).toMatchObject({
      status: "sending",
      total: VALID,
      invalid: 3,
      duplicates: 2,
      route: "mm_lite",
      routeReason: "mm_lite_activated",
    });
    expect(created.json.invalidRows).toStrictEqual(
      INVALID_AS_WRITTEN.map((value) => ({
        row: audience.findIndex((a) => a.to === value),
        value,
        reason: "invalid_phone",
      })),
    );
    const campaignId = created.json.id as string;
    run.campaignId = campaignId;

    // Wait until nothing is queued and Meta has given every recipient a wamid.
    const deadline = Date.now() + 60_000;
    let detail: any;
    for (;;) {
      const r = await call(gw, "GET", `/v1/campaigns/${campaignId}`, { key: bot.apiKey });
      expect(r.status, r.text).toBe(200);
      detail = r.json;
      if (detail.status === "completed" && fake.acceptedSends(bot.phoneNumberId).length >= VALID) break;
      if (Date.now() > deadline) throw new Error(`campaign not accepted in time: ${r.text}`);
      await new Promise((res) => setTimeout(res, 300));
    }
    fault.remove();
    run.campaign = detail;
    expect(detail).toMatchObject({
      id: campaignId,
      name: "issue 4 delivery",
      status: "completed",
      template: { name: "fall_sale", language: "pt_BR", category: "MARKETING" },
      route: "mm_lite",
      routeReason: "mm_lite_activated",
      total: VALID,
    });
    expect(detail.completedAt).toMatch(ISO_UTC);

    // What Meta saw: one accepted send per valid recipient, the refused ones re-sent by the Cloud API.
    const accepted = fake.acceptedSends(bot.phoneNumberId);
    expect(accepted).toHaveLength(VALID);
    const byDigits = new Map(accepted.map((s) => [String(s.body?.to), s]));
    expect([...byDigits.keys()].sort()).toStrictEqual(phones.map((p) => p.slice(1)).sort());
    const refused = new Set(
      fake
        .sends(bot.phoneNumberId)
        .filter((s) => s.response?.error?.code === 131055)
        .map((s) => String(s.body?.to)),
    );
    expect(refused.size).toBe(FALLBACKS);
    const viaCloud = accepted.filter((s) => s.kind === "send_cloud").map((s) => String(s.body?.to));
    expect(new Set(viaCloud)).toStrictEqual(refused);

    // The gateway's acceptedAt and wamid per recipient, before any webhook.
    const report = await fetchReport(bot, campaignId);
    expect(report.header).toStrictEqual(REPORT_HEADER);
    expect(report.rows.size).toBe(VALID + INVALID_AS_WRITTEN.length);

    // Scenarios dealt to recipients in a shuffled order; Meta's clock starts just after acceptance.
    const rnd = mulberry32(4);
    const dealt = shuffle(
      SCENARIOS.flatMap((s) => Array.from({ length: s.count }, () => s)),
      rnd,
    );
    const t0 = Math.floor(Date.now() / 1000) + 5;
    const recipients: Recipient[] = phones.map((phone, i) => {
      const digits = phone.slice(1);
      const send = byDigits.get(digits);
      const row = report.rows.get(phone);
      expect(row, `report row of ${phone}`).toBeDefined();
      const acceptedAt = (row as string[])[8] as string;
      expect(acceptedAt, `${phone} accepted_at`).toMatch(ISO_UTC);
      // Recorded by the gateway when Meta answered: close to when the fake received the send.
      expect(Math.abs(Date.parse(acceptedAt) - (send?.at ?? 0)), `${phone} accepted_at`).toBeLessThan(30_000);
      expect((row as string[])[5], `${phone} wamid`).toBe(send?.wamid);
      const carriedBy: Route = send?.kind === "send_cloud" ? "cloud_api" : "mm_lite";
      const scenario = dealt[i] as (typeof SCENARIOS)[number];
      // Spread over several minutes so the timeline has several buckets.
      const sent = t0 + ((i * 7) % 170);
      const delivered = sent + 2 + (i % 17);
      const times: Times = {
        sent,
        delivered,
        read: delivered + 20 + ((i * 11) % 100),
        failed: sent + 3 + (i % 5),
      };
      return {
        phone,
        digits,
        wamid: send?.wamid as string,
        carriedBy,
        route: carriedBy,
        routeReason: carriedBy === "cloud_api" ? "mm_lite_rejected_fallback" : "mm_lite_activated",
        acceptedAt,
        scenario: scenario.name,
        statuses: scenario.plan(times, carriedBy === "mm_lite" ? "marketing_lite" : "marketing"),
      };
    });
    run.recipients = recipients;
    run.invalidRows = INVALID_AS_WRITTEN.map((value) => [
      neutralised(value),
      "invalid",
      "mm_lite",
      "mm_lite_activated",
      "",
      "",
      "",
      "invalid_phone",
      "",
      "",
      "",
      "",
      "",
    ]);

    // Before any webhook the model (no statuses) already matches: all accepted, nothing confirmed.
    const before = expectedPerformance(
      recipients.map((r) => ({ ...r, statuses: [] })),
      INVALID_AS_WRITTEN.length,
    );
    run.before = before;
    expect(performanceOf(detail)).toStrictEqual(before);
    expect(before.counts.accepted).toBe(VALID);
  });

  it("bad or missing signature → 401 invalid_signature and nothing changes; unsigned-shape body → 400", async () => {
    const { bot, campaignId, recipients, before } = run;
    if (!bot || !campaignId || !recipients || !before) throw new Error("the campaign step did not complete");
    const silent = recipients.filter((r) => r.statuses.length === 0);
    expect(silent.length).toBeGreaterThanOrEqual(2);
    const [a, b] = silent as [Recipient, Recipient];
    // Effects that would show at once if stored: a failure and a read of two untouched messages.
    const payload = JSON.stringify(
      batchedNotification(
        bot,
        [
          statusJson(bot, a.wamid, a.digits, {
            status: "failed",
            ts: Math.floor(Date.now() / 1000),
            error: E131049,
          }),
          statusJson(bot, b.wamid, b.digits, {
            status: "read",
            ts: Math.floor(Date.now() / 1000),
            category: "marketing",
          }),
        ],
        1,
        false,
      ),
    );
    const url = `${gw.url}/webhooks/meta`;
    const tampered = payload.replace('"read"', '"sent"');
    const attempts: [string, Promise<Response>][] = [
      ["wrong secret", fake.postWebhook(url, payload, { secret: "not-the-app-secret" })],
      ["no signature", fake.postWebhook(url, payload, { signature: null })],
      ["signature of other bytes", fake.postWebhook(url, tampered, { signature: fake.sign(payload) })],
      ["malformed signature", fake.postWebhook(url, payload, { signature: "sha256=zz" })],
      [
        "sha1 scheme",
        fake.postWebhook(url, payload, { signature: fake.sign(payload).replace("sha256", "sha1") }),
      ],
      ["empty signature", fake.postWebhook(url, payload, { signature: "" })],
    ];
    for (const [what, pending] of attempts) {
      const r = await called(await pending);
      expect(r.status, `${what}: ${r.text}`).toBe(401);
      expectProblem(r, 401, "invalid_signature");
    }
    // Signed correctly but not a WhatsApp notification: refused, nothing stored either.
    const notWhatsApp = await called(await fake.postWebhook(url, { object: "page", entry: [] }));
    expectProblem(notWhatsApp, 400, "invalid_notification");

    // Effects show "within a few seconds": give a stored notification the time to show, then compare.
    await new Promise((res) => setTimeout(res, 3000));
    const r = await call(gw, "GET", `/v1/campaigns/${campaignId}`, { key: bot.apiKey });
    expect(r.status, r.text).toBe(200);
    expect(performanceOf(r.json)).toStrictEqual(before);
  });

  it("after duplicated, out-of-order, batched webhooks (131049 failures included): counts, funnel, rates, errors, confirmedRoutes, timeline exact", async () => {
    const { bot, campaignId, recipients } = run;
    if (!bot || !campaignId || !recipients) throw new Error("the campaign step did not complete");
    const rnd = mulberry32(44);

    // Each message's statuses in arrival order, each built once (a duplicate is the same bytes).
    // Meta re-sends: every third message with statuses gets one of them again, at the end.
    // Waves: half the messages get their statuses one per wave (a `read` in wave 0, its `delivered`
    // in wave 1, …), so out-of-order statuses meet the stored row in separate queue batches; the
    // other half get all of theirs in wave 0, so they meet inside one batch.
    const planned = recipients.map((r, i) => {
      const list = r.statuses.map((s) => ({ s, json: statusJson(bot, r.wamid, r.digits, s) }));
      const again = list[Math.floor(rnd() * list.length)];
      if (i % 3 === 0 && again) list.push(again);
      return list.map((x, k) => ({ ...x, wave: i % 2 === 0 ? k : 0 }));
    });
    const waves = Math.max(...planned.flatMap((l) => l.map((x) => x.wave))) + 1;
    expect(waves).toBeGreaterThanOrEqual(3);

    const url = `${gw.url}/webhooks/meta`;
    const raws: string[] = [];
    let postNo = 0;
    const post = async (raw: string) => {
      const res = await fake.postWebhook(url, raw);
      expect(res.status, await res.text()).toBe(200);
    };

    for (let w = 0; w < waves; w++) {
      // Interleave the messages of this wave, each keeping its own (out-of-order) arrival order.
      const queues = planned.map((l) => l.filter((x) => x.wave === w).map((x) => x.json));
      const stream: unknown[] = [];
      for (;;) {
        const open = queues.filter((q) => q.length > 0);
        if (open.length === 0) break;
        stream.push((open[Math.floor(rnd() * open.length)] as unknown[]).shift());
      }
      // Batched POSTs of 1–20 statuses; every fourth one carries one of its statuses twice.
      const posts: unknown[][] = [];
      for (let i = 0; i < stream.length; ) {
        const n = 1 + Math.floor(rnd() * 20);
        const batch = stream.slice(i, i + n);
        if (posts.length % 4 === 0) {
          batch.splice(Math.floor(rnd() * (batch.length + 1)), 0, batch[Math.floor(rnd() * batch.length)]);
        }
        posts.push(batch);
        i += n;
      }
      // Statuses of wamids the gateway never sent: one inside a batch, one failed 131049 alone.
      if (w === 0) {
        (posts[1] as unknown[]).push(
          statusJson(bot, unknownWamid(1), "5511900000001", {
            status: "delivered",
            ts: Math.floor(Date.now() / 1000),
            category: "marketing_lite",
          }),
        );
        posts.push([
          statusJson(bot, unknownWamid(2), "5511900000002", {
            status: "failed",
            ts: Math.floor(Date.now() / 1000),
            error: E131049,
          }),
        ]);
      }
      // Meta re-delivers whole notifications (same bytes): each later wave opens with the previous
      // wave's last two POSTs again.
      if (w > 0) for (const raw of raws.slice(-2)) await post(raw);
      for (const statuses of posts) {
        const raw = JSON.stringify(batchedNotification(bot, statuses, 1 + (postNo % 3), postNo % 2 === 0));
        postNo++;
        raws.push(raw);
        await post(raw);
      }

      // What the model says after the statuses of waves 0..w, whatever order they came in.
      const expected = expectedPerformance(
        recipients.map((r, i) => ({
          ...r,
          statuses: (planned[i] ?? []).filter((x) => x.wave <= w).map((x) => x.s),
        })),
        INVALID_AS_WRITTEN.length,
      );
      // Poll until the figures match (effects show "within a few seconds"); then compare exactly.
      const deadline = Date.now() + 30_000;
      let actual: Performance | undefined;
      for (;;) {
        const r = await call(gw, "GET", `/v1/campaigns/${campaignId}`, { key: bot.apiKey });
        expect(r.status, r.text).toBe(200);
        actual = performanceOf(r.json);
        if (isDeepStrictEqual(actual, expected) || Date.now() > deadline) break;
        await new Promise((res) => setTimeout(res, 400));
      }
      expect(actual, `after wave ${w + 1} of ${waves}`).toStrictEqual(expected);
    }

    const expected = expectedPerformance(recipients, INVALID_AS_WRITTEN.length);
    // The plan's own sanity: every kind of outcome it claims is there.
    expect(expected.counts).toMatchObject({ accepted: 8, failed: 26 });
    expect(expected.errors.map((e) => e.code)).toStrictEqual([131049, 131026, 131047]);
    expect(expected.confirmedRoutes.cloud_api).toBeGreaterThan(0);
    // Stable: nothing moves a few seconds after the last wave matched.
    await new Promise((res) => setTimeout(res, 2500));
    const later = await call(gw, "GET", `/v1/campaigns/${campaignId}`, { key: bot.apiKey });
    expect(later.status, later.text).toBe(200);
    expect(performanceOf(later.json), "stable a few seconds later").toStrictEqual(expected);
    expect(later.json).toMatchObject({ status: "completed", total: VALID, route: "mm_lite" });
    expect(later.json.completedAt).toBe(run.campaign?.completedAt);
  });

  it("report.csv: the documented header and every recipient's row exactly as posted", async () => {
    const { bot, campaignId, recipients, invalidRows } = run;
    if (!bot || !campaignId || !recipients || !invalidRows)
      throw new Error("the campaign step did not complete");
    const report = await fetchReport(bot, campaignId);
    expect(report.header).toStrictEqual(REPORT_HEADER);
    const expected = new Map<string, string[]>();
    for (const r of recipients) expected.set(r.phone, expectedRow(r));
    for (const row of invalidRows) expected.set(row[0] as string, row);
    const sorted = (m: Map<string, string[]>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // Row by row first, so a failure names the recipient and its scenario; then the whole set.
    const scenarioOf = new Map(recipients.map((r) => [r.phone, r.scenario]));
    for (const [phone, want] of sorted(expected)) {
      expect(report.rows.get(phone), `${phone} (${scenarioOf.get(phone) ?? "invalid"})`).toStrictEqual(want);
    }
    expect(sorted(report.rows)).toStrictEqual(sorted(expected));
  });
});
