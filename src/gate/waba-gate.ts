import { DurableObject } from "cloudflare:workers";
import { type CachedTemplate, type CachedWabaStatus, kvKeys, kvTtl } from "../cache/keys";
import { getConfig } from "../config";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { metaClient } from "../meta/transport";
import type { TemplateInfo, WabaStatusAnswer } from "../routing/types";
import type { QueueJob } from "../sending/jobs";
import {
  type Deferral,
  type Grant,
  grant,
  grantOrDefer,
  INITIAL_PACING,
  isIdle,
  MAX_SLOT_WAIT_MS,
  MIN_RECHECK_MS,
  type PacingState,
  releasePlan,
  throttled,
} from "./pacing";

/** A number idle this long has its pacing row dropped by the alarm (it says nothing any more). */
const FORGET_IDLE_MS = 60 * 60_000;
/** Queues take at most 100 messages per sendBatch. */
const SEND_BATCH_MAX = 100;

/** How long the object trusts its own answer (KV carries the same answer to other edges). */
const STATUS_MEMORY_MS = {
  active: kvTtl.statusActive * 1000,
  not_onboarded: kvTtl.statusNotOnboarded * 1000,
  // Meta unreachable: ask again soon, but do not hammer Meta during an outage.
  unavailable: 30_000,
} as const;

interface StatusMemo {
  answer: WabaStatusAnswer["state"];
  expiresAt: number;
}

export type TemplateLookup =
  | { kind: "found"; template: TemplateInfo }
  | { kind: "missing" }
  | { kind: "unavailable"; detail: string };

/**
 * One object per WABA (idFromName(wabaId)). It is the single place that
 *  - asks Meta for the WABA's MM Lite onboarding status: concurrent first sends share one query;
 *  - registers the answer (D1 record, KV edge cache) and knows whether MM Lite was *just* activated;
 *  - paces every phone number of the WABA under its throughput (see ./pacing.ts): the slot
 *    schedule of each number is kept in the object's SQLite storage, so an evicted or restarted
 *    object cannot hand out slots it already gave; jobs booked too far ahead are parked in that
 *    storage too, and the object's alarm puts them back on the queue, in order, when the number
 *    has room for them.
 */
export class WabaGate extends DurableObject<Env> {
  private status: StatusMemo | undefined;
  private statusInFlight: Promise<WabaStatusAnswer["state"]> | undefined;
  private activatedAt: string | null = null;
  private lastAnswer: Omit<CachedWabaStatus, "state"> | undefined;
  private readonly templatesInFlight = new Map<string, Promise<TemplateLookup>>();
  private readonly pacing = new Map<string, PacingState>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.activatedAt = (await ctx.storage.get<string | null>("activatedAt")) ?? null;
      ctx.storage.sql.exec(
        `CREATE TABLE IF NOT EXISTS pacing (
           phone_number_id TEXT PRIMARY KEY, next_slot_at REAL NOT NULL, slow_until REAL NOT NULL);
         CREATE TABLE IF NOT EXISTS parked (
           seq INTEGER PRIMARY KEY AUTOINCREMENT, phone_number_id TEXT NOT NULL,
           count INTEGER NOT NULL, mps REAL NOT NULL, body TEXT NOT NULL, parked_at REAL NOT NULL);
         CREATE INDEX IF NOT EXISTS parked_by_number ON parked (phone_number_id, seq);`,
      );
    });
  }

  /**
   * The WABA's MM Lite state; at most one Meta query in flight. With `claimActivation` (a send
   * deciding its route), the first caller to see the WABA active while no activation is recorded
   * records it and is told `activatedNow` — exactly one send says `mm_lite_activated`. A reader
   * that only looks (the status page) never claims it, so looking first cannot steal that answer.
   */
  async resolveStatus(wabaId: string, claimActivation = true): Promise<WabaStatusAnswer> {
    let state: WabaStatusAnswer["state"];
    if (this.status && this.status.expiresAt > Date.now()) state = this.status.answer;
    else if (this.statusInFlight) state = await this.statusInFlight;
    else {
      const query = this.queryStatus(wabaId);
      this.statusInFlight = query;
      try {
        state = await query;
      } finally {
        this.statusInFlight = undefined;
      }
    }
    // No await between the check and the set: concurrent callers cannot both claim it.
    if (!claimActivation || state !== "active" || this.activatedAt !== null)
      return { state, activatedNow: false };
    const activatedAt = isoNow();
    this.activatedAt = activatedAt;
    await this.ctx.storage.put("activatedAt", activatedAt);
    await this.env.DB.prepare("UPDATE wabas SET activated_at = ?, updated_at = ? WHERE id = ?")
      .bind(activatedAt, activatedAt, wabaId)
      .run();
    await this.cacheStatus(wabaId, "active");
    return { state, activatedNow: true };
  }

  /**
   * Forget the cached status so the next campaign asks Meta again. `deactivate` (MM Lite refused a
   * send) also clears the activation record: if Meta says ONBOARDED again it is a new activation.
   */
  async dropStatus(wabaId: string, deactivate: boolean): Promise<void> {
    this.status = undefined;
    if (deactivate && this.activatedAt !== null) {
      this.activatedAt = null;
      await this.ctx.storage.put("activatedAt", null);
      await this.env.DB.prepare("UPDATE wabas SET activated_at = NULL, updated_at = ? WHERE id = ?")
        .bind(isoNow(), wabaId)
        .run();
    }
    await this.env.CACHE.delete(kvKeys.wabaStatus(wabaId));
  }

  /** Template lookup with concurrent identical lookups sharing one Graph read. */
  async resolveTemplate(wabaId: string, name: string, language: string): Promise<TemplateLookup> {
    const key = `${name}\u0000${language}`;
    const pending = this.templatesInFlight.get(key);
    if (pending) return pending;
    const lookup = this.lookupTemplate(wabaId, name, language);
    this.templatesInFlight.set(key, lookup);
    try {
      return await lookup;
    } finally {
      this.templatesInFlight.delete(key);
    }
  }

  /** Reserve `count` evenly spaced send slots for a phone number. */
  async acquire(phoneNumberId: string, mps: number, count: number): Promise<Grant> {
    const [next, granted] = grant(this.pace(phoneNumberId), Date.now(), mps, count, this.jitterMs());
    this.savePace(phoneNumberId, next);
    return granted;
  }

  /** As `acquire`, unless the slots would start more than `maxWaitMs` from now (then nothing is booked). */
  async acquireWithin(
    phoneNumberId: string,
    mps: number,
    count: number,
    maxWaitMs: number,
  ): Promise<Grant | null> {
    const [next, answer] = grantOrDefer(
      this.pace(phoneNumberId),
      Date.now(),
      mps,
      count,
      maxWaitMs,
      this.jitterMs(),
    );
    if ("deferred" in answer) return null;
    this.savePace(phoneNumberId, next);
    return answer;
  }

  /**
   * As `acquire`, unless the number is booked more than MAX_SLOT_WAIT_MS ahead: then nothing is
   * reserved, `job` is parked here (durably, before the answer leaves) and the alarm re-enqueues
   * it when the number has room. The caller acks its queue message on a deferral.
   */
  async acquireOrPark(
    phoneNumberId: string,
    mps: number,
    count: number,
    job: QueueJob,
  ): Promise<Grant | Deferral> {
    const now = Date.now();
    const [next, answer] = grantOrDefer(
      this.pace(phoneNumberId),
      now,
      mps,
      count,
      MAX_SLOT_WAIT_MS,
      this.jitterMs(),
    );
    if (!("deferred" in answer)) {
      this.savePace(phoneNumberId, next);
      return answer;
    }
    this.ctx.storage.sql.exec(
      "INSERT INTO parked (phone_number_id, count, mps, body, parked_at) VALUES (?, ?, ?, ?, ?)",
      phoneNumberId,
      count,
      mps,
      JSON.stringify(job),
      now,
    );
    await this.wakeBy(Math.max(now + MIN_RECHECK_MS, next.nextSlotAt - MAX_SLOT_WAIT_MS / 2));
    return answer;
  }

  /** Meta throttled this number: push its next slot back and slow it down for a while. */
  async reportThrottle(phoneNumberId: string, pauseMs: number): Promise<void> {
    this.savePace(phoneNumberId, throttled(this.pace(phoneNumberId), Date.now(), pauseMs));
  }

  /** How many jobs are parked, per phone number (operations and tests). */
  async parkedJobs(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.ctx.storage.sql.exec<{ phone_number_id: string; n: number }>(
      "SELECT phone_number_id, COUNT(*) AS n FROM parked GROUP BY phone_number_id",
    ))
      out[r.phone_number_id] = r.n;
    return out;
  }

  /**
   * Puts parked jobs back on the queue, oldest first, as far as each number has room (pure rule in
   * `releasePlan`), then sets the next alarm. A job leaves the table only after the queue took it;
   * if the queue fails, the alarm throws and the runtime retries it.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    let recheck: number | null = null;
    const numbers = this.ctx.storage.sql
      .exec<{ phone_number_id: string }>("SELECT DISTINCT phone_number_id FROM parked")
      .toArray();
    for (const { phone_number_id: phone } of numbers) {
      const rows = this.ctx.storage.sql
        .exec<{ seq: number; count: number; mps: number; body: string }>(
          "SELECT seq, count, mps, body FROM parked WHERE phone_number_id = ? ORDER BY seq LIMIT 1000",
          phone,
        )
        .toArray();
      const plan = releasePlan(this.pace(phone), now, rows, MAX_SLOT_WAIT_MS, this.jitterMs());
      const released = rows.slice(0, plan.release);
      for (let i = 0; i < released.length; i += SEND_BATCH_MAX) {
        const part = released.slice(i, i + SEND_BATCH_MAX);
        await this.env.SEND_QUEUE.sendBatch(part.map((r) => ({ body: JSON.parse(r.body) as QueueJob })));
        this.ctx.storage.sql.exec(
          `DELETE FROM parked WHERE seq IN (${part.map(() => "?").join(",")})`,
          ...part.map((r) => r.seq),
        );
      }
      if (released.length > 0)
        log.info("parked_jobs_released", { phoneNumberId: phone, jobs: released.length });
      if (plan.recheckAt !== null) recheck = Math.min(recheck ?? Number.POSITIVE_INFINITY, plan.recheckAt);
    }
    this.forgetIdleNumbers(now);
    if (recheck !== null) await this.ctx.storage.setAlarm(recheck);
  }

  private pace(phoneNumberId: string): PacingState {
    let state = this.pacing.get(phoneNumberId);
    if (state) return state;
    const row = this.ctx.storage.sql
      .exec<{ next_slot_at: number; slow_until: number }>(
        "SELECT next_slot_at, slow_until FROM pacing WHERE phone_number_id = ?",
        phoneNumberId,
      )
      .toArray()[0];
    state = row ? { nextSlotAt: row.next_slot_at, slowUntil: row.slow_until } : INITIAL_PACING;
    this.pacing.set(phoneNumberId, state);
    return state;
  }

  /** Memory first, storage in the same turn: the answer is held until the write is durable. */
  private savePace(phoneNumberId: string, state: PacingState): void {
    this.pacing.set(phoneNumberId, state);
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO pacing (phone_number_id, next_slot_at, slow_until) VALUES (?, ?, ?)",
      phoneNumberId,
      state.nextSlotAt,
      state.slowUntil,
    );
  }

  private forgetIdleNumbers(now: number): void {
    for (const [phone, state] of this.pacing) {
      if (isIdle(state, now - FORGET_IDLE_MS)) this.pacing.delete(phone);
    }
    this.ctx.storage.sql.exec(
      `DELETE FROM pacing WHERE MAX(next_slot_at, slow_until) < ?
         AND phone_number_id NOT IN (SELECT phone_number_id FROM parked)`,
      now - FORGET_IDLE_MS,
    );
  }

  /** The alarm fires at `at` or earlier (an earlier alarm already set is kept). */
  private async wakeBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private jitterMs(): number {
    return getConfig(this.env).PACING_JITTER_MS;
  }

  private async queryStatus(wabaId: string): Promise<WabaStatusAnswer["state"]> {
    let onboardingStatus: string | null = null;
    let legacyStatus: string | null = null;
    let state: WabaStatusAnswer["state"];
    try {
      const answer = await metaClient(this.env).getWabaOnboardingStatus(wabaId);
      onboardingStatus = answer.onboardingStatus;
      legacyStatus = answer.legacyStatus;
      state = answer.onboarded ? "active" : "not_onboarded";
    } catch (err) {
      log.warn("waba_status_unavailable", { wabaId, error: errorName(err) });
      state = "unavailable";
    }
    const now = Date.now();
    this.status = { answer: state, expiresAt: now + STATUS_MEMORY_MS[state] };
    if (state === "unavailable") return state;

    const checkedAt = isoNow(now);
    // Meta no longer reports ONBOARDED: the activation is over.
    if (state !== "active") this.activatedAt = null;
    await this.ctx.storage.put("activatedAt", this.activatedAt);
    // Registration: D1 is the record, KV the edge cache (a negative answer only briefly).
    await this.env.DB.prepare(
      `UPDATE wabas SET onboarding_status = ?, legacy_status = ?, checked_at = ?, activated_at = ?, updated_at = ?
       WHERE id = ?`,
    )
      .bind(onboardingStatus, legacyStatus, checkedAt, this.activatedAt, checkedAt, wabaId)
      .run();
    this.lastAnswer = { onboardingStatus, legacyStatus, checkedAt };
    // An active answer goes to KV only once an activation is recorded: until then sends must come
    // here, so that the first of them is the one told `mm_lite_activated`.
    if (state === "not_onboarded" || this.activatedAt !== null) await this.cacheStatus(wabaId, state);
    return state;
  }

  private async cacheStatus(wabaId: string, state: "active" | "not_onboarded"): Promise<void> {
    const last = this.lastAnswer ?? { onboardingStatus: null, legacyStatus: null, checkedAt: isoNow() };
    const cached: CachedWabaStatus = { state, ...last };
    await this.env.CACHE.put(kvKeys.wabaStatus(wabaId), JSON.stringify(cached), {
      expirationTtl: state === "active" ? kvTtl.statusActive : kvTtl.statusNotOnboarded,
    });
  }

  private async lookupTemplate(wabaId: string, name: string, language: string): Promise<TemplateLookup> {
    let found: TemplateInfo | null;
    try {
      const t = await metaClient(this.env).findTemplate(wabaId, name, language);
      found = t && {
        name: t.name,
        language: t.language,
        status: t.status,
        category: t.category,
        paramCount: t.paramCount,
      };
    } catch (err) {
      log.warn("template_lookup_unavailable", { wabaId, name, language, error: errorName(err) });
      return { kind: "unavailable", detail: `Meta could not be asked for template ${name} (${language})` };
    }
    const cached: CachedTemplate = found ? { found: true, template: found } : { found: false };
    await this.env.CACHE.put(kvKeys.template(wabaId, name, language), JSON.stringify(cached), {
      expirationTtl: found ? kvTtl.templateFound : kvTtl.templateMissing,
    });
    return found ? { kind: "found", template: found } : { kind: "missing" };
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : "unknown";
}
