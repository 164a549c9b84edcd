// The registry role of SimState: source of truth for WABAs, numbers, templates, fault rules and the
// auto-webhook setting. Whatever a phone number's sends depend on is pushed to that number's line as a
// LineConfig snapshot, so the send hot path never has to ask the registry.
import { bootMarker, planBoot } from "../boot";
import type { FaultsInput, NumberPatch, TemplatePatch, WabaInput } from "../control/schemas";
import { makeRng, numericId } from "../ids";
import { SEEDS, type SeedName } from "../seeds";
import {
  type AutoWebhookConfig,
  type LineConfig,
  type LineTemplate,
  type NumberRecord,
  type SendEndpoint,
  type TemplateRecord,
  templateKey,
  type WabaRecord,
} from "../types";
import { Counters } from "./counters";
import { type FaultConfig, type FaultHit, type FaultTarget, pickFault, sendFaultsPossible } from "./faults";
import { RegistryStore } from "./registry-store";
import { lineStub } from "./stubs";
import { toTemplateRecord } from "./templates";

export type TemplateView = Omit<TemplateRecord, "seq" | "wabaId">;
export interface WabaView extends WabaRecord {
  phoneNumbers: NumberRecord[];
  templates: TemplateView[];
}

/** A plausible display number when the test does not care: 1555 + the id's last digits. */
const defaultDisplay = (id: string) => `1555${id.replace(/\D/g, "").slice(-7).padStart(7, "0")}`;

export class Registry {
  readonly store: RegistryStore;
  readonly counters: Counters;
  private rng: () => number;
  private booting?: Promise<void>;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: SimEnv,
  ) {
    this.store = new RegistryStore(ctx.storage.sql);
    this.counters = new Counters(ctx.storage.sql, "reg_counters");
    this.rng = makeRng(this.store.faults.seed);
  }

  async reset(): Promise<void> {
    const ids = [...this.store.numbers.keys()];
    await Promise.all(ids.map((id) => lineStub(this.env, id).lineReset()));
    this.store.clear();
    this.counters.clear();
    this.rng = makeRng();
    // A reset leaves the simulator empty: the current vars count as applied (see boot.ts).
    this.store.saveBoot(bootMarker(this.env));
  }

  /**
   * Applies SIM_SEED / SIM_AUTO_WEBHOOKS if they changed since last applied (boot.ts). The Worker calls
   * this once per isolate before routing anything; concurrent callers share one run per instance. A
   * bad var rejects every call, so the misconfiguration shows on every request.
   */
  boot(): Promise<void> {
    this.booting ??= this.runBoot();
    return this.booting;
  }

  private async runBoot(): Promise<void> {
    const plan = planBoot(this.env, this.store.boot);
    if (plan.seed) await this.applySeed(plan.seed);
    if (plan.autoWebhooks) await this.setAutoWebhooks(plan.autoWebhooks);
    // Recorded last: a run cut short is simply repeated (both steps are idempotent).
    if (plan.marker) this.store.saveBoot(plan.marker);
  }

  /** Upserts a fixture set (seeds.ts); applying it again changes nothing. */
  async applySeed(name: SeedName): Promise<WabaView[]> {
    const views: WabaView[] = [];
    for (const { id, waba } of SEEDS[name]) views.push(await this.upsertWaba(id, waba));
    return views;
  }

  wabaView(id: string): WabaView | null {
    const waba = this.store.wabas.get(id);
    if (!waba) return null;
    return {
      ...waba,
      phoneNumbers: this.store.numbersOf(id),
      templates: (this.store.templates.get(id) ?? []).map(({ seq: _s, wabaId: _w, ...t }) => t),
    };
  }

  /** Merges: given fields replace, numbers and templates are upserted, nothing is removed. */
  async upsertWaba(id: string, input: WabaInput): Promise<WabaView> {
    const prev = this.store.wabas.get(id);
    this.store.putWaba({
      id,
      name: input.name ?? prev?.name ?? `WABA ${id}`,
      onboardingStatus: input.onboardingStatus ?? prev?.onboardingStatus ?? "ELIGIBLE",
      legacyStatus: input.legacyStatus !== undefined ? input.legacyStatus : (prev?.legacyStatus ?? null),
      ownerBusinessId: input.ownerBusinessId ?? prev?.ownerBusinessId ?? numericId(),
      graphReadsPerHour: input.graphReadsPerHour ?? prev?.graphReadsPerHour ?? 5000,
    });
    const touched = new Set(this.store.numbersOf(id).map((n) => n.id));
    for (const n of input.phoneNumbers ?? []) {
      const old = this.store.numbers.get(n.id);
      this.store.putNumber({
        id: n.id,
        wabaId: id,
        displayPhoneNumber: n.displayPhoneNumber ?? old?.displayPhoneNumber ?? defaultDisplay(n.id),
        throughputMps: n.throughputMps ?? old?.throughputMps ?? 80,
        httpStatusOnThrottle: n.httpStatusOnThrottle ?? old?.httpStatusOnThrottle ?? 400,
      });
      touched.add(n.id);
    }
    for (const t of input.templates ?? [])
      this.store.putTemplate(toTemplateRecord(id, t, this.store.findTemplate(id, t.name, t.language)));
    await this.push(touched);
    return this.wabaView(id) as WabaView;
  }

  /** Changes one template (creating it needs status and category); null when that is impossible. */
  async putTemplate(
    wabaId: string,
    name: string,
    language: string,
    patch: TemplatePatch,
  ): Promise<TemplateView | null> {
    if (!this.store.wabas.has(wabaId)) return null;
    const existing = this.store.findTemplate(wabaId, name, language);
    const status = patch.status ?? existing?.status;
    const category = patch.category ?? existing?.category;
    if (!status || !category) return null;
    const t = this.store.putTemplate(
      toTemplateRecord(wabaId, { ...patch, name, language, status, category }, existing),
    );
    await this.pushWaba(wabaId);
    const { seq: _s, wabaId: _w, ...view } = t;
    return view;
  }

  async setOnboarding(wabaId: string, patch: Partial<Pick<WabaRecord, "onboardingStatus" | "legacyStatus">>) {
    const waba = this.store.wabas.get(wabaId);
    if (!waba) return;
    this.store.putWaba({ ...waba, ...patch });
    await this.pushWaba(wabaId);
  }

  async setNumber(id: string, patch: NumberPatch): Promise<NumberRecord | null> {
    const old = this.store.numbers.get(id);
    if (!old) return null;
    const n: NumberRecord = {
      ...old,
      throughputMps: patch.throughputMps ?? old.throughputMps,
      httpStatusOnThrottle: patch.httpStatusOnThrottle ?? old.httpStatusOnThrottle,
      displayPhoneNumber: patch.displayPhoneNumber ?? old.displayPhoneNumber,
    };
    this.store.putNumber(n);
    await this.push([id]);
    return n;
  }

  async setFaults(input: FaultsInput): Promise<FaultConfig> {
    const unavailable = input.wabaStatusUnavailable;
    this.store.faults = {
      rules: input.rules.map((r, i) => ({
        id: r.id ?? `rule-${i + 1}`,
        endpoints: r.endpoint === undefined ? null : [r.endpoint].flat(),
        phoneNumberId: r.phoneNumberId,
        wabaId: r.wabaId,
        code: r.code,
        httpStatus: r.httpStatus,
        message: r.message,
        details: r.details,
        timeoutMs: r.timeoutMs,
        drop: r.drop,
        acceptBeforeDrop: r.acceptBeforeDrop,
        probability: r.probability ?? 1,
        remaining: r.count ?? null,
        fired: 0,
      })),
      sendLatencyMs: input.sendLatencyMs,
      wabaStatusUnavailable:
        unavailable === undefined || unavailable === false
          ? null
          : unavailable === true
            ? { httpStatus: 500, code: 2 }
            : { httpStatus: unavailable.httpStatus ?? 500, code: unavailable.code ?? 2 },
      seed: input.seed,
    };
    this.store.saveFaults();
    this.rng = makeRng(input.seed);
    await this.push(this.store.numbers.keys());
    return this.store.faults;
  }

  /** Evaluates fault rules for one request; counts the hit. Lines call this only when faultsActive. */
  pickFault(target: FaultTarget): FaultHit | null {
    const hit = pickFault(this.store.faults.rules, target, this.rng);
    if (!hit) return null;
    this.counters.inc(`faults.${hit.kind === "error" ? hit.code : "timeout"}`);
    this.store.saveFaults();
    // A next-N rule just ran out: tell the lines so their sends stop asking.
    const exhausted = this.store.faults.rules.find((r) => r.id === hit.ruleId)?.remaining === 0;
    if (exhausted) this.ctx.waitUntil(this.push(this.store.numbers.keys()));
    return hit;
  }

  async setAutoWebhooks(cfg: AutoWebhookConfig): Promise<AutoWebhookConfig> {
    this.store.auto = cfg;
    this.store.saveAuto();
    await this.push(this.store.numbers.keys());
    return cfg;
  }

  /** Sends to ids that are no phone number never reach a line's counters; count them here. */
  recordUnknownSend(endpoint: SendEndpoint): void {
    this.counters.inc(`${endpoint}.total`);
    this.counters.inc(`${endpoint}.rejected.100`);
  }

  recordWebhooks(posted: number, failed: number): void {
    if (posted) this.counters.inc("webhooks.posted", posted);
    if (failed) this.counters.inc("webhooks.failed", failed);
  }

  lineConfig(n: NumberRecord): LineConfig {
    const waba = this.store.wabas.get(n.wabaId) as WabaRecord;
    const templates: Record<string, LineTemplate> = {};
    for (const t of this.store.templates.get(n.wabaId) ?? [])
      templates[templateKey(t.name, t.language)] = {
        id: t.id,
        status: t.status,
        category: t.category,
        paramCount: t.paramCount,
      };
    return {
      phoneNumberId: n.id,
      wabaId: n.wabaId,
      displayPhoneNumber: n.displayPhoneNumber,
      throughputMps: n.throughputMps,
      httpStatusOnThrottle: n.httpStatusOnThrottle,
      mmLiteOnboarded: waba.onboardingStatus === "ONBOARDED" || waba.legacyStatus === "ONBOARDED",
      templates,
      faultsActive: sendFaultsPossible(this.store.faults.rules, n.id, n.wabaId),
      sendLatencyMs: this.store.faults.sendLatencyMs,
      autoWebhooks: this.store.auto,
    };
  }

  private pushWaba(wabaId: string): Promise<void> {
    return this.push(this.store.numbersOf(wabaId).map((n) => n.id));
  }

  private async push(ids: Iterable<string>): Promise<void> {
    await Promise.all(
      [...ids].map((id) => {
        const n = this.store.numbers.get(id);
        return lineStub(this.env, id).lineConfigure(n ? this.lineConfig(n) : null);
      }),
    );
  }
}
