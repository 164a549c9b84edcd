import { DurableObject } from "cloudflare:workers";
import { type CachedTemplate, type CachedWabaStatus, kvKeys, kvTtl } from "../cache/keys";
import { getConfig } from "../config";
import { log } from "../lib/log";
import { isoNow } from "../lib/time";
import { metaClient } from "../meta/transport";
import type { TemplateInfo, WabaStatusAnswer } from "../routing/types";
import {
  type Deferral,
  type Grant,
  grant,
  grantOrDefer,
  INITIAL_PACING,
  type PacingState,
  throttled,
} from "./pacing";

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
 *  - paces every phone number of the WABA under its throughput (see ./pacing.ts).
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
    const state = this.pacing.get(phoneNumberId) ?? INITIAL_PACING;
    const [next, granted] = grant(state, Date.now(), mps, count, getConfig(this.env).PACING_JITTER_MS);
    this.pacing.set(phoneNumberId, next);
    return granted;
  }

  /** As `acquire`, unless the number is booked more than `maxWaitMs` ahead (then nothing is reserved). */
  async acquireOrDefer(
    phoneNumberId: string,
    mps: number,
    count: number,
    maxWaitMs: number,
  ): Promise<Grant | Deferral> {
    const state = this.pacing.get(phoneNumberId) ?? INITIAL_PACING;
    const [next, answer] = grantOrDefer(
      state,
      Date.now(),
      mps,
      count,
      maxWaitMs,
      getConfig(this.env).PACING_JITTER_MS,
    );
    this.pacing.set(phoneNumberId, next);
    return answer;
  }

  /** Meta throttled this number: push its next slot back and slow it down for a while. */
  async reportThrottle(phoneNumberId: string, pauseMs: number): Promise<void> {
    const state = this.pacing.get(phoneNumberId) ?? INITIAL_PACING;
    this.pacing.set(phoneNumberId, throttled(state, Date.now(), pauseMs));
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
