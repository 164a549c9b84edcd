// Optional lifecycle webhooks for accepted messages: sent, then delivered (maybe read) or failed, each
// `delayMs` apart. Pending statuses sit in the line's SQLite and a DO alarm posts them, so nothing is
// lost if the instance is evicted between accept and emission.
import { errorTitle } from "../graph/errors";
import { makeRng } from "../ids";
import type { AutoWebhookConfig, MessageRecord } from "../types";
import { buildStatusPayload, type StatusItem, type WebhookStatus } from "../webhooks/build";
import { postWebhook, signJson } from "../webhooks/post";
import type { Counters } from "./counters";

type PendingItem = Omit<StatusItem, "timestamp"> & { batch: number };

const POST_CONCURRENCY = 8;

export class AutoEmitter {
  private alarmAt: number | null = null;
  private rng: () => number = Math.random;
  private rngSeed: number | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: SimEnv,
    private readonly counters: Counters,
  ) {
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS line_auto (id INTEGER PRIMARY KEY, due INTEGER NOT NULL, json TEXT NOT NULL)",
    );
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS line_auto_due ON line_auto (due)");
  }

  clear(): void {
    this.ctx.storage.sql.exec("DELETE FROM line_auto");
    this.alarmAt = null;
  }

  schedule(msg: MessageRecord, cfg: AutoWebhookConfig, now: number): void {
    if (cfg.seed !== this.rngSeed) {
      this.rngSeed = cfg.seed;
      this.rng = makeRng(cfg.seed);
    }
    const plan: WebhookStatus[] = ["sent"];
    if (this.rng() < cfg.failedRate) plan.push("failed");
    else if (this.rng() < cfg.deliveredRate) {
      plan.push("delivered");
      if (this.rng() < cfg.readRate) plan.push("read");
    }
    plan.forEach((status, i) => {
      const item: PendingItem = {
        wabaId: msg.wabaId,
        phoneNumberId: msg.phoneNumberId,
        displayPhoneNumber: msg.displayPhoneNumber,
        wamid: msg.wamid,
        to: msg.to,
        product: msg.product,
        category: msg.category,
        status,
        batch: cfg.batch,
        error:
          status === "failed"
            ? { code: cfg.failCode, title: cfg.failTitle ?? errorTitle(cfg.failCode) }
            : undefined,
      };
      this.ctx.storage.sql.exec(
        "INSERT INTO line_auto (due, json) VALUES (?, ?)",
        now + cfg.delayMs * (i + 1),
        JSON.stringify(item),
      );
    });
    this.ensureAlarm(now + cfg.delayMs);
  }

  private ensureAlarm(due: number): void {
    if (this.alarmAt !== null && this.alarmAt <= due) return;
    this.alarmAt = due;
    void this.ctx.storage.setAlarm(due);
  }

  /** Alarm handler: post everything due, then re-arm for the next pending status. */
  async run(): Promise<void> {
    this.alarmAt = null;
    const rows = this.ctx.storage.sql
      .exec<{ id: number; due: number; json: string }>(
        "DELETE FROM line_auto WHERE id IN (SELECT id FROM line_auto WHERE due <= ? ORDER BY due, id LIMIT 2000) RETURNING id, due, json",
        Date.now(),
      )
      .toArray()
      .sort((a, b) => a.due - b.due || a.id - b.id);
    const batches: StatusItem[][] = [];
    for (const r of rows) {
      const { batch, ...item } = JSON.parse(r.json) as PendingItem;
      const last = batches[batches.length - 1];
      const status: StatusItem = { ...item, timestamp: Math.floor(r.due / 1000) };
      if (last && last.length < batch) last.push(status);
      else batches.push([status]);
    }
    const url = this.env.SIM_GATEWAY_WEBHOOK_URL;
    let next = 0;
    let failed = 0;
    let lastFailure = "";
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++] as StatusItem[];
        const hook = await postWebhook(
          this.env,
          url,
          await signJson(this.env, JSON.stringify(buildStatusPayload(batch))),
        );
        const ok = hook.status !== undefined && hook.status < 300;
        this.counters.inc(ok ? "webhooks.posted" : "webhooks.failed");
        if (!ok) {
          failed++;
          lastFailure = `${hook.status ?? "no answer"}: ${hook.error ?? ""}`;
        }
      }
    };
    await Promise.all(Array.from({ length: POST_CONCURRENCY }, worker));
    // Nobody can see the stats under `npm run dev`, so say it in the log (not for the test pool's
    // deliberately unreachable *.invalid host).
    if (failed && !new URL(url).hostname.endsWith(".invalid"))
      console.warn(
        `meta-sim: ${failed} of ${batches.length} status webhook POSTs to ${url} failed (last ${lastFailure})`,
      );
    const pending = this.ctx.storage.sql
      .exec<{ due: number | null }>("SELECT MIN(due) AS due FROM line_auto")
      .one();
    if (pending.due !== null) this.ensureAlarm(Math.max(pending.due, Date.now()));
  }
}
