// The line role of SimState: one instance per phone number. It owns the number's throughput window
// (in memory: it only matters within a second), its accepted messages and its send counters. Sends
// arrive here already shape-checked by the Worker; the config snapshot comes from the registry.
import { type GraphOutcome, graphError, invalidParam, unknownObject } from "../graph/errors";
import type { SendCheck } from "../graph/send-validate";
import { newWamid } from "../ids";
import type { LineConfig, MessageRecord, SendEndpoint } from "../types";
import { AutoEmitter } from "./auto-emitter";
import { Counters } from "./counters";
import type { FaultHit } from "./faults";
import { decideSend } from "./send-rules";
import { SlidingWindow } from "./sliding-window";
import { registryStub } from "./stubs";

export interface LineStats {
  phoneNumberId: string;
  throughputMps: number | null;
  counters: Record<string, number>;
}

export class Line {
  private cfg: LineConfig | null;
  private readonly window = new SlidingWindow(1000);
  private readonly counters: Counters;
  private readonly auto: AutoEmitter;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: SimEnv,
  ) {
    const sql = ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS line_cfg (k INTEGER PRIMARY KEY, json TEXT NOT NULL)");
    sql.exec(
      "CREATE TABLE IF NOT EXISTS line_messages (seq INTEGER PRIMARY KEY, wamid TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, json TEXT NOT NULL)",
    );
    sql.exec("CREATE INDEX IF NOT EXISTS line_messages_at ON line_messages (at)");
    this.counters = new Counters(sql, "line_counters");
    this.auto = new AutoEmitter(ctx, env, this.counters);
    const row = sql.exec<{ json: string }>("SELECT json FROM line_cfg WHERE k = 1").toArray()[0];
    this.cfg = row ? (JSON.parse(row.json) as LineConfig) : null;
  }

  configure(cfg: LineConfig | null): void {
    this.cfg = cfg;
    if (cfg)
      this.ctx.storage.sql.exec(
        "INSERT OR REPLACE INTO line_cfg (k, json) VALUES (1, ?)",
        JSON.stringify(cfg),
      );
    else this.ctx.storage.sql.exec("DELETE FROM line_cfg");
    if (!cfg?.autoWebhooks.enabled) this.auto.clear();
  }

  async reset(): Promise<void> {
    this.cfg = null;
    this.window.clear();
    this.counters.clear();
    for (const t of ["line_cfg", "line_messages"]) this.ctx.storage.sql.exec(`DELETE FROM ${t}`);
    this.auto.clear();
    await this.ctx.storage.deleteAlarm();
  }

  /** Order: number exists → throughput gate → shape → injected faults → template / MM Lite rules. */
  async send(
    endpoint: SendEndpoint,
    phoneNumberId: string,
    check: SendCheck,
    arrivedAt = Date.now(),
  ): Promise<GraphOutcome> {
    const cfg = this.cfg;
    if (!cfg) {
      await registryStub(this.env).registryRecordUnknownSend(endpoint);
      return unknownObject("post", phoneNumberId);
    }
    this.counters.inc(`${endpoint}.total`);
    // Meta counts arrivals per number in a sliding second; over the cap nothing is accepted.
    const inWindow = this.window.tryAdmit(arrivedAt, cfg.throughputMps);
    if (inWindow < 0) {
      this.counters.inc("throttled");
      return this.reject(
        endpoint,
        130429,
        graphError(130429, {
          status: cfg.httpStatusOnThrottle,
          details: `Message failed to send because there were too many messages sent from this phone number in a short period of time (limit ${cfg.throughputMps}/s)`,
        }),
      );
    }
    this.counters.max("maxInAnySecond", inWindow);
    if (!check.ok) return this.reject(endpoint, 100, invalidParam(check.details));

    let timeout: Extract<FaultHit, { kind: "timeout" }> | undefined;
    if (cfg.faultsActive) {
      const hit = await registryStub(this.env).registryPickFault({
        endpoint,
        phoneNumberId,
        wabaId: cfg.wabaId,
      });
      if (hit?.kind === "error") {
        const status = hit.httpStatus ?? (hit.code === 130429 ? cfg.httpStatusOnThrottle : undefined);
        const opts = { status, message: hit.message, details: hit.details };
        return this.reject(endpoint, hit.code, graphError(hit.code, opts));
      }
      if (hit?.kind === "timeout") {
        timeout = hit;
        if (hit.drop && !hit.acceptBeforeDrop) {
          this.counters.inc(`${endpoint}.dropped`);
          return { status: 0, body: null, delayMs: hit.delayMs + cfg.sendLatencyMs, drop: true };
        }
      }
    }
    // The snapshot may have been replaced while we waited for the registry.
    const current = this.cfg ?? cfg;
    const decision = decideSend(current, endpoint, check.req);
    if (!decision.ok)
      return this.reject(endpoint, decision.code, graphError(decision.code, { details: decision.details }));

    const at = Date.now();
    const msg: MessageRecord = {
      wamid: newWamid(check.req.waId),
      phoneNumberId,
      wabaId: current.wabaId,
      displayPhoneNumber: current.displayPhoneNumber,
      to: check.req.waId,
      template: check.req.template,
      language: check.req.language,
      category: decision.category,
      params: check.req.params,
      product: decision.product,
      endpoint,
      at: new Date(at).toISOString(),
    };
    this.ctx.storage.sql.exec(
      "INSERT INTO line_messages (wamid, at, json) VALUES (?, ?, ?)",
      msg.wamid,
      at,
      JSON.stringify(msg),
    );
    this.counters.inc(`${endpoint}.accepted`);
    this.counters.inc("accepted");
    this.counters.inc(`product.${decision.product}`);
    if (current.autoWebhooks.enabled) this.auto.schedule(msg, current.autoWebhooks, at);
    if (timeout?.drop) this.counters.inc(`${endpoint}.dropped`);

    return {
      status: 200,
      body: {
        messaging_product: "whatsapp",
        contacts: [{ input: check.req.to, wa_id: check.req.waId }],
        messages: [{ id: msg.wamid, message_status: "accepted" }],
      },
      delayMs: current.sendLatencyMs + (timeout?.delayMs ?? 0) || undefined,
      drop: timeout?.drop || undefined,
    };
  }

  private reject(endpoint: SendEndpoint, code: number, outcome: GraphOutcome): GraphOutcome {
    this.counters.inc(`${endpoint}.rejected.${code}`);
    const latency = this.cfg?.sendLatencyMs ?? 0;
    return latency ? { ...outcome, delayMs: (outcome.delayMs ?? 0) + latency } : outcome;
  }

  stats(phoneNumberId: string): LineStats {
    return { phoneNumberId, throughputMps: this.cfg?.throughputMps ?? null, counters: this.counters.all() };
  }

  messagesSince(sinceMs: number, limit: number): MessageRecord[] {
    return this.ctx.storage.sql
      .exec<{ json: string }>(
        "SELECT json FROM line_messages WHERE at >= ? ORDER BY at, seq LIMIT ?",
        sinceMs,
        limit,
      )
      .toArray()
      .map((r) => JSON.parse(r.json) as MessageRecord);
  }

  /** wamids == null → every message of this number. */
  findMessages(wamids: string[] | null): MessageRecord[] {
    const sql = this.ctx.storage.sql;
    if (wamids === null)
      return sql
        .exec<{ json: string }>("SELECT json FROM line_messages ORDER BY seq")
        .toArray()
        .map((r) => JSON.parse(r.json) as MessageRecord);
    const out: MessageRecord[] = [];
    // SQLite in DOs caps bound parameters at 100 per statement.
    for (let i = 0; i < wamids.length; i += 90) {
      const chunk = wamids.slice(i, i + 90);
      const rows = sql.exec<{ json: string }>(
        `SELECT json FROM line_messages WHERE wamid IN (${chunk.map(() => "?").join(",")}) ORDER BY seq`,
        ...chunk,
      );
      for (const r of rows) out.push(JSON.parse(r.json) as MessageRecord);
    }
    return out;
  }

  alarm(): Promise<void> {
    return this.auto.run();
  }
}
