/**
 * Bulk campaigns at a raised throughput (issue #3), black-box: the gateway alone under
 * `wrangler dev`, the independent Node fake of Meta (`fake-meta.ts`, not `sim/`), plain HTTP.
 *
 * Each test uploads a 3,000-row CSV (a few invalid and duplicate rows, so exactly 2,990 recipients
 * are valid) on a bot and a fake number that both allow 200 messages per second, and checks what
 * Meta saw, from the fake's request log:
 *  - every valid recipient accepted exactly once, none missing, invalid and duplicate rows never sent;
 *  - at most 200 arrivals in any sliding one-second window (all arrivals, refused ones included),
 *    and no 130429 from the fake's own throughput check;
 *  - the campaign's end state and counts per `GET /v1/campaigns/{id}`;
 * once without faults, once with seeded 5xx / 130429 refusals, once cancelled mid-way.
 *
 * The measured figures (largest window, share of the cap, duration) are printed as one console
 * line per test, and every failed check carries the evidence: a per-second histogram, the 100 ms
 * buckets around the worst window, the attempt history of each doubled or missing recipient.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMeta, type FaultHandle, type RecordedRequest, sentBodyTexts } from "./fake-meta";
import { call, createBot, expectProblem, ISO_UTC, type TestBot } from "./helpers";
import { type Gateway, startGateway } from "./wrangler";

/** The bot's `throughputMps` and the fake number's cap: Meta's 130429 above it in a sliding second. */
const MPS = 200;
const ROWS = 3000;
const TEMPLATE = { name: "fall_sale", language: "pt_BR" } as const;

let fake: FakeMeta;
let gw: Gateway;

beforeAll(async () => {
  fake = await FakeMeta.start({
    seed: 3,
  });
  gw = await startGateway({ graphUrl: fake.graphUrl("v25.0"), metaAccessToken: fake.accessToken });
});

afterAll(async () => {
  await gw?.stop();
  await fake?.close();
});

// ------------------------------------------------------------------ the audience

interface Audience {
  csv: string;
  /** Valid, de-duplicated recipients: the `to` Meta must receive (digits) → template parameters. */
  valid: Map<string, string[]>;
  /** Rows the gateway must report: CSV line (header = 1) → reason. */
  invalid: Map<number, string>;
  /** Digits of invalid rows that still hold a well-formed number: Meta must never see them. */
  neverSent: Set<string>;
  duplicates: number;
}

/**
 * ROWS data rows: 2,990 valid recipients, 4 rows with an invalid number, 2 with the wrong number
 * of parameters (their numbers are valid, so sending them would be visible at the fake) and 4
 * repeats of earlier numbers, written differently so only E.164 normalisation finds them.
 * `series` (1–9) keeps each test's numbers apart.
 */
function buildAudience(series: number): Audience {
  const digits = (n: number) => `55119${series}${String(n).padStart(7, "0")}`;
  const invalidPhone = new Map([
    [7, "12ab"],
    [900, "+55 11 1234"],
    [1777, "+1 555"],
    [2999, "not a number"],
  ]);
  const wrongParams = new Map([
    [300, `+${digits(9_000_001)},Only one`],
    [2100, `+${digits(9_000_002)},Too,many,params`],
  ]);
  // index → index of the earlier valid recipient it repeats, and how it is written.
  const repeats = new Map<number, [number, (d: string) => string]>([
    [50, [3, (d) => `+${d}`]],
    [1234, [1000, (d) => `+55 (11) ${d.slice(4, 9)}-${d.slice(9)}`]],
    [2222, [2000, (d) => `55 11 ${d.slice(4)}`]],
    [2998, [2900, (d) => `+55 11 ${d.slice(4, 9)} ${d.slice(9)}`]],
  ]);
  const valid = new Map<string, string[]>();
  const validOrder: string[] = [];
  const invalid = new Map<number, string>();
  const neverSent = new Set<string>();
  const lines = ["phone,name,until"];
  for (let j = 0; j < ROWS; j++) {
    const line = j + 2;
    const bad = invalidPhone.get(j);
    const mismatch = wrongParams.get(j);
    const repeat = repeats.get(j);
    if (bad !== undefined) {
      lines.push(`${bad},Cliente X,15/08`);
      invalid.set(line, "invalid_phone");
    } else if (mismatch !== undefined) {
      lines.push(mismatch);
      invalid.set(line, "template_params_mismatch");
      neverSent.add((mismatch.split(",")[0] as string).slice(1));
    } else if (repeat !== undefined) {
      const [of, written] = repeat;
      const d = validOrder[of] as string;
      lines.push(`${written(d)},${(valid.get(d) as string[]).join(",")}`);
    } else {
      const d = digits(validOrder.length);
      const params = [`Cliente ${validOrder.length}`, "15/08"];
      valid.set(d, params);
      validOrder.push(d);
      lines.push(`+${d},${params.join(",")}`);
    }
  }
  return { csv: `${lines.join("\n")}\n`, valid, invalid, neverSent, duplicates: repeats.size };
}

async function createCampaign(bot: TestBot, audience: Audience, name: string): Promise<any> {
  const query = new URLSearchParams({ name, template: TEMPLATE.name, language: TEMPLATE.language });
  const r = await call(gw, "POST", `/v1/campaigns?${query}`, {
    key: bot.apiKey,
    raw: audience.csv,
    headers: { "content-type": "text/csv" },
  });
  expect(r.status, r.text).toBe(202);
  expect(r.json, r.text).toMatchObject({
    status: "sending",
    total: audience.valid.size,
    invalid: audience.invalid.size,
    duplicates: audience.duplicates,
    route: "mm_lite",
  });
  const reported = new Map((r.json.invalidRows as any[]).map((x) => [x.row, x.reason]));
  expect(reported).toEqual(audience.invalid);
  return r.json;
}

async function getCampaign(bot: TestBot, id: string): Promise<any> {
  const r = await call(gw, "GET", `/v1/campaigns/${id}`, { key: bot.apiKey });
  expect(r.status, r.text).toBe(200);
  return r.json;
}

/**
 * Polls the campaign until `done` holds or `timeoutMs` passed, and answers the last state either
 * way: the checks on it then say what is wrong, after the figures of the run are printed.
 */
async function waitCampaign(
  bot: TestBot,
  id: string,
  done: (c: any) => boolean,
  timeoutMs: number,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await getCampaign(bot, id);
    if (done(last) || Date.now() > deadline) return last;
    await sleep(1000);
  }
}

// ------------------------------------------------------------------ what Meta saw

interface WindowMax {
  count: number;
  /** Arrival time of the first send of that window. */
  from: number;
}

/** Largest number of arrivals in any window [t, t + 1000 ms), as the fake (and Meta) count them. */
function maxWindow(times: number[]): WindowMax {
  const sorted = [...times].sort((a, b) => a - b);
  let best: WindowMax = { count: 0, from: sorted[0] ?? 0 };
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, from: sorted[lo] as number };
  }
  return best;
}

/** Counts per bucket from `from` to `to`, as "offset:count" (offsets in ms from t0). */
function buckets(times: number[], t0: number, from: number, to: number, width: number): string {
  const out: string[] = [];
  for (let start = from; start < to; start += width) {
    const n = times.filter((t) => t >= start && t < start + width).length;
    out.push(`${start - t0}:${n}`);
  }
  return out.join(" ");
}

function windowEvidence(times: number[], t0: number, worst: WindowMax, loop: EventLoop): string {
  const last = Math.max(...times);
  const near = loop.stalls.filter((x) => x.at + x.ms >= worst.from - 1000 && x.at <= worst.from + 1000);
  return [
    `largest sliding 1 s window: ${worst.count} arrivals from +${worst.from - t0} ms`,
    `per second from the first send (offset ms:count): ${buckets(times, t0, t0, last + 1, 1000)}`,
    `100 ms buckets around it: ${buckets(times, t0, worst.from - 1000, worst.from + 2000, 100)}`,
    `10 ms buckets of the window: ${buckets(times, t0, worst.from, worst.from + 1000, 10)}`,
    `fake's event-loop stalls over ${STALL_MS} ms from 1 s before to 1 s into it (offset ms:stalled ms): ${
      near.map((x) => `${x.at - t0}:${x.ms}`).join(" ") || "none"
    }`,
  ].join("\n");
}

function errorCode(s: RecordedRequest): number | string | undefined {
  if (s.wamid !== undefined) return undefined;
  return s.response?.error?.code ?? `HTTP ${s.status}`;
}

function history(attempts: RecordedRequest[], t0: number): string {
  return attempts
    .map((s) => `+${s.at - t0}ms ${s.status} ${s.wamid !== undefined ? "accepted" : errorCode(s)}`)
    .join(", ");
}

interface Seen {
  sends: RecordedRequest[];
  times: number[];
  t0: number;
  byTo: Map<string, RecordedRequest[]>;
  accepted: RecordedRequest[];
  /** 130429 answers, injected or from the fake's own throughput check. */
  throttled: number;
}

function seen(phoneNumberId: string): Seen {
  const sends = fake.sends(phoneNumberId);
  const byTo = new Map<string, RecordedRequest[]>();
  for (const s of sends) {
    const to = String(s.body?.to);
    const list = byTo.get(to);
    if (list) list.push(s);
    else byTo.set(to, [s]);
  }
  return {
    sends,
    times: sends.map((s) => s.at),
    t0: sends[0]?.at ?? 0,
    byTo,
    accepted: sends.filter((s) => s.wamid !== undefined),
    throttled: sends.filter((s) => s.response?.error?.code === 130429).length,
  };
}

/**
 * Exactly once as Meta sees it: no valid recipient accepted twice or tried again after its
 * acceptance (a refused attempt followed by a retry is fine), every one in `mustAccept` accepted,
 * nobody outside the valid recipients sent at all.
 */
function expectExactlyOnce(s: Seen, audience: Audience, mustAccept: ReadonlySet<string>): void {
  const doubled: string[] = [];
  const missing: string[] = [];
  const afterAcceptance: string[] = [];
  const wrongParams: string[] = [];
  for (const to of new Set([...mustAccept, ...s.byTo.keys()])) {
    if (!audience.valid.has(to)) continue;
    const attempts = s.byTo.get(to) ?? [];
    const accepted = attempts.filter((a) => a.wamid !== undefined);
    if (accepted.length > 1) doubled.push(`${to}: ${history(attempts, s.t0)}`);
    if (accepted.length === 0 && mustAccept.has(to))
      missing.push(`${to}: ${history(attempts, s.t0) || "never sent"}`);
    if (accepted.length === 1 && attempts[attempts.length - 1] !== accepted[0])
      afterAcceptance.push(`${to}: ${history(attempts, s.t0)}`);
    for (const a of accepted) {
      const texts = sentBodyTexts(a);
      if (JSON.stringify(texts) !== JSON.stringify(audience.valid.get(to)))
        wrongParams.push(`${to}: ${JSON.stringify(texts)}`);
    }
  }
  const unexpected = [...s.byTo.keys()].filter((to) => !audience.valid.has(to));
  const cap = (list: string[]) => `${list.length}: ${list.slice(0, 20).join("\n")}`;
  expect.soft(doubled, `recipients accepted more than once ${cap(doubled)}`).toEqual([]);
  expect.soft(afterAcceptance, `recipients sent again after acceptance ${cap(afterAcceptance)}`).toEqual([]);
  expect.soft(missing, `recipients never accepted ${cap(missing)}`).toEqual([]);
  expect
    .soft(
      unexpected.filter((to) => audience.neverSent.has(to)),
      "invalid rows sent",
    )
    .toEqual([]);
  expect.soft(unexpected, "sends to numbers that are no valid recipient").toEqual([]);
  expect.soft(wrongParams, `sends with another recipient's parameters ${cap(wrongParams)}`).toEqual([]);
}

/** The figures of one run, printed so a reader sees them whatever the outcome. */
function figures(label: string, s: Seen, loop: EventLoop): { all: WindowMax; accepted: WindowMax } {
  const all = maxWindow(s.times);
  const accepted = maxWindow(s.accepted.map((a) => a.at));
  const span = (s.times[s.times.length - 1] ?? 0) - s.t0;
  const acceptedRate = span > 0 ? (s.accepted.length * 1000) / span : 0;
  console.log(
    `[campaigns.e2e] ${label}: ${s.sends.length} arrivals, ${s.accepted.length} accepted in ` +
      `${(span / 1000).toFixed(1)} s (${acceptedRate.toFixed(1)}/s accepted); largest sliding 1 s ` +
      `window ${all.count}/${MPS} all arrivals (${((all.count / MPS) * 100).toFixed(1)} % of the cap), ` +
      `${accepted.count} accepted; ${s.throttled} × 130429; fake's event loop: delay p99 ` +
      `${loop.p99.toFixed(1)} ms, max ${loop.max.toFixed(1)} ms, ${loop.stalls.length} stalls over ${STALL_MS} ms`,
  );
  dump(label, s, loop);
  return { all, accepted };
}

/** With MMLITE_E2E_LOG_DIR, every arrival (and the fake's stalls) as TSV, for a closer look. */
function dump(label: string, s: Seen, loop: EventLoop): void {
  const dir = process.env.MMLITE_E2E_LOG_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const rows = s.sends.map(
    (x) => `${x.at - s.t0}\t${x.body?.to}\t${x.status}\t${x.wamid !== undefined ? "accepted" : errorCode(x)}`,
  );
  const name = `campaigns-${label.replace(/\W+/g, "-")}`;
  writeFileSync(join(dir, `${name}-arrivals.tsv`), `ms\tto\thttp\toutcome\n${rows.join("\n")}\n`);
  const stalls = loop.stalls.map((x) => `${x.at - s.t0}\t${x.ms}`);
  writeFileSync(join(dir, `${name}-stalls.tsv`), `ms\tstalled_ms\n${stalls.join("\n")}\n`);
}

/** A pause of the fake's event loop longer than this is listed as a stall. */
const STALL_MS = 25;

interface EventLoop {
  p99: number;
  max: number;
  /** When the loop stalled (epoch ms) and for how long. */
  stalls: { at: number; ms: number }[];
}

/**
 * The fake stamps arrivals on this process's event loop: a stall here bunches arrivals the gateway
 * spaced evenly. The stalls during a run tell such a measurement artefact from a real burst.
 */
function watchEventLoop(): () => EventLoop {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const stalls: EventLoop["stalls"] = [];
  const tick = 5;
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (now - last - tick > STALL_MS) stalls.push({ at: last + tick, ms: now - last - tick });
    last = now;
  }, tick);
  return () => {
    clearInterval(timer);
    h.disable();
    return { p99: h.percentile(99) / 1e6, max: h.max / 1e6, stalls };
  };
}

// ------------------------------------------------------------------ the tests

describe(`CSV campaign of ${ROWS} rows at ${MPS}/s (issue #3)`, () => {
  it("every valid recipient accepted exactly once, never above the cap in any second, completed", async () => {
    const bot = await createBot(gw, fake, {
      onboarding: "ONBOARDED",
      throughputMps: MPS,
      metaThroughputMps: MPS,
    });
    const audience = buildAudience(1);
    const watch = watchEventLoop();
    const created = await createCampaign(bot, audience, "Pacing 200");
    const done = await waitCampaign(bot, created.id, (c) => c.status !== "sending", 100_000);
    const s = seen(bot.phoneNumberId);
    const loop = watch();
    const { all } = figures("no faults", s, loop);

    expectExactlyOnce(s, audience, new Set(audience.valid.keys()));
    expect.soft(all.count, windowEvidence(s.times, s.t0, all, loop)).toBeLessThanOrEqual(MPS);
    expect.soft(s.throttled, windowEvidence(s.times, s.t0, all, loop)).toBe(0);
    expect.soft(done.status).toBe("completed");
    expect.soft(done.completedAt).toMatch(ISO_UTC);
    expect.soft(done.total).toBe(audience.valid.size);
    expect.soft(done.counts).toMatchObject({
      queued: 0,
      accepted: audience.valid.size,
      failed: 0,
      cancelled: 0,
      invalid: audience.invalid.size,
    });
    expect.soft(done.funnel.accepted).toBe(audience.valid.size);
    // api.md: a completed campaign cannot be cancelled.
    expectProblem(
      await call(gw, "POST", `/v1/campaigns/${created.id}/cancel`, { key: bot.apiKey }),
      409,
      "campaign_not_cancellable",
    );
  }, 150_000);

  it("with seeded 5xx and 130429 refusals: each recipient accepted once after its retries, never above the cap", async () => {
    const bot = await createBot(gw, fake, {
      onboarding: "ONBOARDED",
      throughputMps: MPS,
      metaThroughputMps: MPS,
    });
    const audience = buildAudience(2);
    // Rules are tried in order and the first that fires wins, so each later rate is conditional on
    // the earlier ones not firing: overall 5 % HTTP 500 (Graph code 2), 5 % raw 502 from a proxy,
    // 5 % 130429 (HTTP 400, as Meta also sends it). Each rule refuses one recipient at most once,
    // so no message meets more than 3 refusals: inside the gateway's retry budget (6 attempts,
    // src/sending/outcome.ts), hence the contract's outcome here is "all accepted, none failed".
    const common = { on: "send" as const, phoneNumberId: bot.phoneNumberId, maxPerRecipient: 1 };
    const faults: FaultHandle[] = [
      fake.addFault({ ...common, rate: 0.05, seed: 500, httpStatus: 500, code: 2 }),
      fake.addFault({
        ...common,
        rate: 0.05 / 0.95,
        seed: 502,
        httpStatus: 502,
        rawBody: "<html><body><h1>502 Bad Gateway</h1></body></html>",
      }),
      fake.addFault({
        ...common,
        rate: 0.05 / 0.9,
        seed: 429,
        httpStatus: 400,
        code: 130429,
        subcode: 2494055,
      }),
    ];
    try {
      const watch = watchEventLoop();
      const created = await createCampaign(bot, audience, "Pacing 200 with faults");
      const done = await waitCampaign(bot, created.id, (c) => c.status !== "sending", 130_000);
      const s = seen(bot.phoneNumberId);
      const loop = watch();
      const { all } = figures("with faults", s, loop);
      const [f500, f502, f429] = faults.map((f) => f.fired) as [number, number, number];
      const refused = s.sends.length - s.accepted.length;
      console.log(
        `[campaigns.e2e] with faults: injected ${f500} × 500/code 2, ${f502} × raw 502, ${f429} × 130429 ` +
          `(${(((f500 + f502 + f429) / s.sends.length) * 100).toFixed(1)} % of ${s.sends.length} ` +
          `arrivals); ${refused} refused in all`,
      );
      // Some of each fault fired (else the test proved nothing about retries).
      expect.soft(Math.min(f500, f502, f429)).toBeGreaterThan(50);

      expectExactlyOnce(s, audience, new Set(audience.valid.keys()));
      expect.soft(all.count, windowEvidence(s.times, s.t0, all, loop)).toBeLessThanOrEqual(MPS);
      // Every 130429 is an injected one: the fake's own throughput check never fired.
      expect.soft(s.throttled - f429, windowEvidence(s.times, s.t0, all, loop)).toBe(0);
      // Every refusal is an injected one (nothing else refused, e.g. a malformed retry).
      expect.soft(refused).toBe(f500 + f502 + f429);
      expect.soft(done.status).toBe("completed");
      expect.soft(done.total).toBe(audience.valid.size);
      expect.soft(done.counts).toMatchObject({
        queued: 0,
        accepted: audience.valid.size,
        failed: 0,
        cancelled: 0,
        invalid: audience.invalid.size,
      });
      expect.soft(done.errors).toEqual([]);
    } finally {
      for (const f of faults) f.remove();
    }
  }, 170_000);

  it("cancel mid-way: answered cancelled, sends stop within a second, counts add up", async () => {
    const bot = await createBot(gw, fake, {
      onboarding: "ONBOARDED",
      throughputMps: MPS,
      metaThroughputMps: MPS,
    });
    const audience = buildAudience(3);
    const watch = watchEventLoop();
    const created = await createCampaign(bot, audience, "Cancelled at 200");
    await fake.waitFor(
      () => fake.acceptedSends(bot.phoneNumberId).length >= 400,
      60_000,
      "400 sends before cancelling",
    );
    const asked = Date.now();
    const r = await call(gw, "POST", `/v1/campaigns/${created.id}/cancel`, { key: bot.apiKey });
    const answered = Date.now();
    expect(r.status, r.text).toBe(200);
    expect(r.res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
    expect(r.json).toMatchObject({ id: created.id, status: "cancelled", total: audience.valid.size });
    expect(r.json.completedAt ?? null, r.text).toMatch(ISO_UTC);

    // Watch for as long as the whole campaign would have taken, so a job that was deferred, or
    // re-queued with its slots, and comes back later is seen too.
    const firstAt = fake.sends(bot.phoneNumberId)[0]?.at ?? asked;
    await sleep(Math.max(answered + 5000, firstAt + (audience.valid.size / MPS) * 1000 + 3000) - Date.now());
    const done = await waitCampaign(bot, created.id, (c) => c.counts.queued === 0, 20_000);
    const s = seen(bot.phoneNumberId);
    const loop = watch();
    const { all } = figures("cancel", s, loop);
    const late = s.sends.filter((x) => x.at > answered);
    const lastLate = late.length > 0 ? Math.max(...late.map((x) => x.at)) - answered : 0;
    console.log(
      `[campaigns.e2e] cancel: asked after ${s.sends.filter((x) => x.at <= asked).length} arrivals; ` +
        `answered in ${answered - asked} ms (its counts ${JSON.stringify(r.json.counts)}); ` +
        `${late.length} arrivals after the answer, the last ${lastLate} ms after it; final counts ` +
        `${JSON.stringify(done.counts)}`,
    );

    // Grace: the sends already claimed when the answer came, at most one second of them.
    const lateEvidence = `arrivals after the cancel answer (ms after it → recipient's index in file order): ${late
      .map((x) => `${x.at - answered}→${Number(String(x.body?.to).slice(-7))}`)
      .join(" ")}`;
    expect.soft(late.length, lateEvidence).toBeLessThanOrEqual(MPS);
    expect.soft(lastLate, lateEvidence).toBeLessThanOrEqual(1000);

    expect.soft(done.status).toBe("cancelled");
    expect.soft(done.total).toBe(audience.valid.size);
    const c = done.counts;
    const reachedMeta = c.accepted + c.sent + c.delivered + c.read;
    expect.soft(c).toMatchObject({ queued: 0, failed: 0, invalid: audience.invalid.size });
    expect.soft(c.cancelled).toBeGreaterThan(0);
    expect.soft(reachedMeta + c.cancelled, JSON.stringify(c)).toBe(audience.valid.size);
    // What the gateway counts as sent is what Meta accepted, each once; a recipient refused before
    // the cancel and not retried since is one of the cancelled, not a failure.
    const acceptedTo = new Set(s.accepted.map((a) => String(a.body?.to)));
    expect.soft(reachedMeta).toBe(acceptedTo.size);
    expectExactlyOnce(s, audience, new Set());
    expect.soft(all.count, windowEvidence(s.times, s.t0, all, loop)).toBeLessThanOrEqual(MPS);
    expect.soft(s.throttled, windowEvidence(s.times, s.t0, all, loop)).toBe(0);
  }, 120_000);
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
