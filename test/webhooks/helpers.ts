// Helpers for webhook tests: signing like Meta, posting to the gateway, the simulator's dry-run
// emitter, and feeding the queue consumer directly.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { WebhookQueueBody } from "../../src/webhooks/inbox";
import { signBody } from "../../src/webhooks/signature";
import { gw, sendBody, settled, sim, type TestBot } from "../helpers";

export const APP_SECRET = "test-app-secret";
export const VERIFY_TOKEN = "test-verify-token";

export function postWebhook(body: string, signature: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  return gw("/webhooks/meta", { method: "POST", headers, body });
}

/** Signs `body` with the app secret and posts it; returns the response. */
export async function postSigned(body: unknown) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return postWebhook(text, await signBody(APP_SECRET, text));
}

/** The simulator's signed bodies (dry run: the test posts them itself, in order). */
export async function emitted(input: Record<string, unknown>, kind: "emit" | "emit-event" = "emit") {
  const r = await sim("POST", `/_sim/webhooks/${kind}`, { ...input, dryRun: true });
  return r.posted as { body: string; signature: string }[];
}

/** Posts the simulator's bodies one after another; every one must be taken with 200. */
export async function postAll(hooks: { body: string; signature: string }[]) {
  for (const hook of hooks) {
    const res = await postWebhook(hook.body, hook.signature);
    if (res.status !== 200) throw new Error(`webhook refused: ${res.status} ${await res.text()}`);
  }
}

/** Polls `read` until `done` holds (the real queue consumer runs inside the test runtime). */
export async function until<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function message(bot: TestBot, id: string) {
  return (await (await gw(`/v1/messages/${id}`, { key: bot.apiKey })).json()) as any;
}

export async function campaign(bot: TestBot, id: string) {
  return (await (await gw(`/v1/campaigns/${id}`, { key: bot.apiKey })).json()) as any;
}

/** An individual send that Meta accepted: its id and wamid. */
export async function acceptedSend(bot: TestBot, over: Record<string, unknown> = {}) {
  const res = await gw("/v1/messages", { method: "POST", key: bot.apiKey, json: sendBody(over) });
  if (res.status !== 202) throw new Error(`send refused: ${res.status} ${await res.text()}`);
  const { id, campaignId } = (await res.json()) as { id: string; campaignId: string };
  const m = await settled(bot.apiKey, id, 25_000);
  if (m.status !== "accepted") throw new Error(`send not accepted: ${JSON.stringify(m)}`);
  return { id, campaignId, wamid: m.wamid as string };
}

let batchSeq = 0;
/** Runs the webhooks consumer on `bodies` (queue message bodies), as the queue would. */
export async function consume(bodies: unknown[], queue = "mmlite-webhooks", attempts = 1) {
  batchSeq += 1;
  const batch = createMessageBatch<WebhookQueueBody>(
    queue,
    bodies.map((body, i) => ({
      id: `wh${batchSeq}-${i}`,
      timestamp: new Date(),
      attempts,
      body: body as WebhookQueueBody,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as never, env, ctx);
  return getQueueResult(batch, ctx);
}

/** A queue body carrying `notification` inline, as the POST enqueues it. */
export function inline(notification: unknown, receivedAt = new Date().toISOString()): WebhookQueueBody {
  return {
    v: 1,
    kind: "notification",
    body: typeof notification === "string" ? notification : JSON.stringify(notification),
    receivedAt,
  };
}

/** A status notification in Meta's shape. */
export function statusNotification(
  wabaId: string,
  statuses: {
    id: string;
    status: string;
    timestamp: number | string;
    recipient_id?: string;
    pricing?: { category: string };
    errors?: { code: number; title: string }[];
  }[],
) {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: wabaId,
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
              statuses: statuses.map((s) => ({
                recipient_id: "5511999990001",
                ...s,
                timestamp: String(s.timestamp),
                ...(s.pricing
                  ? { pricing: { billable: true, pricing_model: "PMP", type: "regular", ...s.pricing } }
                  : {}),
              })),
            },
          },
        ],
      },
    ],
  };
}

export const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export async function row(sql: string, ...params: unknown[]) {
  return env.DB.prepare(sql)
    .bind(...params)
    .first<Record<string, any>>();
}

export async function rows(sql: string, ...params: unknown[]) {
  return (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<Record<string, any>>()
  ).results;
}
