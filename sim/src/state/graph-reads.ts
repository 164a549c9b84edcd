// Graph reads served by the registry: a WABA node (MM Lite onboarding fields), a phone number node and
// the message_templates edge. Each WABA's reads share a sliding one-hour budget (Meta's 80007), and the
// fault rules / "status unavailable" switch apply before the answer is built.
import { type GraphOutcome, graphError, unknownObject } from "../graph/errors";
import type { FaultEndpoint, NumberRecord, WabaRecord } from "../types";
import type { Registry } from "./registry";
import { SlidingWindow } from "./sliding-window";
import { templatesPage } from "./templates";

const WABA_FIELDS = new Set([
  "id",
  "name",
  "owner_business_info",
  "marketing_messages_onboarding_status",
  "marketing_messages_lite_api_status",
]);
const PHONE_FIELDS = new Set([
  "id",
  "display_phone_number",
  "verified_name",
  "quality_rating",
  "platform_type",
  "throughput",
  "status",
]);

function parseFields(raw: string | null, allowed: Set<string>, nodeType: string): string[] | GraphOutcome {
  if (raw === null || raw.trim() === "") return [];
  const fields = raw.split(",").map((f) => f.trim());
  const bad = fields.find((f) => !allowed.has(f));
  if (bad)
    return graphError(100, {
      message: `(#100) Tried accessing nonexisting field (${bad}) on node type (${nodeType})`,
      plain: true,
    });
  return fields;
}

function pick(all: Record<string, unknown>, fields: string[], defaults: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Graph omits fields that have no value (e.g. a legacy status that was never set).
  for (const f of fields.length ? fields : defaults)
    if (all[f] !== undefined && all[f] !== null) out[f] = all[f];
  out.id = all.id;
  return out;
}

export class GraphReads {
  private windows = new Map<string, SlidingWindow>();

  constructor(private readonly reg: Registry) {}

  reset(): void {
    this.windows.clear();
  }

  /** GET /{id}: a WABA (counted as a status query) or a phone number. */
  readNode(id: string, fieldsParam: string | null): GraphOutcome {
    const waba = this.reg.store.wabas.get(id);
    if (waba) return this.readWaba(waba, fieldsParam);
    const number = this.reg.store.numbers.get(id);
    if (number) return this.readPhoneNumber(number, fieldsParam);
    return unknownObject("get", id);
  }

  readTemplates(wabaId: string, url: string): GraphOutcome {
    const waba = this.reg.store.wabas.get(wabaId);
    if (!waba) return unknownObject("get", wabaId);
    this.reg.counters.inc("templateQueries.total");
    this.reg.counters.inc(`templateQueries.waba.${wabaId}`);
    const g = this.gate(waba, "templates");
    if ("stop" in g) return g.stop;
    const out = templatesPage(this.reg.store.templates.get(wabaId) ?? [], new URL(url).searchParams, url);
    return g.delayMs ? { ...out, delayMs: g.delayMs } : out;
  }

  private readWaba(waba: WabaRecord, fieldsParam: string | null): GraphOutcome {
    this.reg.counters.inc("statusQueries.total");
    this.reg.counters.inc(`statusQueries.waba.${waba.id}`);
    const unavailable = this.reg.store.faults.wabaStatusUnavailable;
    if (unavailable) {
      this.reg.counters.inc("statusQueries.failed");
      return graphError(unavailable.code, { status: unavailable.httpStatus });
    }
    const g = this.gate(waba, "waba_status");
    if ("stop" in g) {
      this.reg.counters.inc("statusQueries.failed");
      return g.stop;
    }
    const fields = parseFields(fieldsParam, WABA_FIELDS, "WhatsAppBusinessAccount");
    if (!Array.isArray(fields)) return fields;
    const all = {
      id: waba.id,
      name: waba.name,
      owner_business_info: { id: waba.ownerBusinessId, name: `Business ${waba.ownerBusinessId}` },
      marketing_messages_onboarding_status: waba.onboardingStatus,
      marketing_messages_lite_api_status: waba.legacyStatus,
    };
    return { status: 200, body: pick(all, fields, ["id", "name"]), delayMs: g.delayMs || undefined };
  }

  private readPhoneNumber(n: NumberRecord, fieldsParam: string | null): GraphOutcome {
    const fields = parseFields(fieldsParam, PHONE_FIELDS, "WhatsAppBusinessPhoneNumber");
    if (!Array.isArray(fields)) return fields;
    const all = {
      id: n.id,
      display_phone_number: n.displayPhoneNumber,
      verified_name: this.reg.store.wabas.get(n.wabaId)?.name,
      quality_rating: "GREEN",
      platform_type: "CLOUD_API",
      status: "CONNECTED",
      throughput: { level: n.throughputMps >= 1000 ? "HIGH" : "STANDARD" },
    };
    return { status: 200, body: pick(all, fields, [...PHONE_FIELDS]) };
  }

  /** Read budget first (Meta's limiter fronts everything), then injected faults. */
  private gate(waba: WabaRecord, endpoint: FaultEndpoint): { stop: GraphOutcome } | { delayMs: number } {
    let w = this.windows.get(waba.id);
    if (!w) {
      w = new SlidingWindow(3_600_000);
      this.windows.set(waba.id, w);
    }
    if (w.tryAdmit(Date.now(), waba.graphReadsPerHour) < 0) {
      this.reg.counters.inc("graphReadLimited");
      return { stop: graphError(80007) };
    }
    const hit = this.reg.store.faults.rules.length ? this.reg.pickFault({ endpoint, wabaId: waba.id }) : null;
    if (!hit) return { delayMs: 0 };
    if (hit.kind === "error")
      return {
        stop: graphError(hit.code, { status: hit.httpStatus, message: hit.message, details: hit.details }),
      };
    // A timeout on a read: answer late, or wait and then break the connection.
    return hit.drop
      ? { stop: { status: 0, body: null, delayMs: hit.delayMs, drop: true } }
      : { delayMs: hit.delayMs };
  }
}
