/**
 * `GET /webhooks/meta` (Meta's subscription handshake) and `POST /webhooks/meta` (notifications).
 * The POST reads the raw body once (bounded), checks the signature on those bytes before anything
 * parses them, checks that it is a WhatsApp notification, hands it to the queue (./inbox.ts) and
 * answers 200: the work happens in the queue consumer, within seconds.
 */

import { OpenAPIHono, z } from "@hono/zod-openapi";
import { getConfig } from "../config";
import type { AppEnv } from "../http/context";
import { ProblemSchema } from "../http/problem";
import { readUpTo } from "../lib/bytes";
import { AppError, errors } from "../lib/errors";
import { log } from "../lib/log";
import { acceptNotification } from "./inbox";
import { isWhatsAppNotification } from "./notification";
import { tokensEqual, verifySignature } from "./signature";

/** Meta's notifications are small; this bounds what an unauthenticated caller can make us read. */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const refusals = {
  forbidden: () =>
    new AppError(403, "forbidden", "Forbidden", { detail: "The verify token or hub.mode does not match" }),
  invalidSignature: () =>
    new AppError(401, "invalid_signature", "Invalid signature", {
      detail: "X-Hub-Signature-256 must be sha256=<hex HMAC-SHA256 of the raw body with the app secret>",
    }),
  invalidNotification: (detail: string) =>
    new AppError(400, "invalid_notification", "Not a WhatsApp notification", { detail }),
  unavailable: () =>
    new AppError(503, "webhook_unavailable", "Notification not stored", {
      detail: "The notification could not be stored; Meta retries it",
      headers: { "Retry-After": "30" },
    }),
};

/** The body's bytes, or null once it exceeds `limit` (the rest is not read). */
async function readBounded(req: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) return null;
  return readUpTo(req.body, limit);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export const webhookRoutes = new OpenAPIHono<AppEnv>();

webhookRoutes.get("/meta", async (c) => {
  const mode = c.req.query("hub.mode");
  const token = c.req.query("hub.verify_token");
  const expected = getConfig(c.env).META_VERIFY_TOKEN;
  if (mode !== "subscribe" || token === undefined || !(await tokensEqual(token, expected))) {
    throw refusals.forbidden();
  }
  return c.text(c.req.query("hub.challenge") ?? "", 200);
});

webhookRoutes.post("/meta", async (c) => {
  const raw = await readBounded(c.req.raw, WEBHOOK_BODY_LIMIT);
  if (raw === null) throw errors.payloadTooLarge(WEBHOOK_BODY_LIMIT);
  const secret = getConfig(c.env).META_APP_SECRET;
  if (!(await verifySignature(secret, raw, c.req.header("x-hub-signature-256")))) {
    throw refusals.invalidSignature();
  }
  let text: string;
  let body: unknown;
  try {
    text = utf8.decode(raw);
    body = JSON.parse(text);
  } catch {
    throw refusals.invalidNotification("The body is not JSON");
  }
  if (!isWhatsAppNotification(body)) {
    throw refusals.invalidNotification('Expected {"object":"whatsapp_business_account","entry":[...]}');
  }
  try {
    await acceptNotification(c.env, text);
  } catch (err) {
    log.error("webhook_not_stored", { error: err instanceof Error ? err.message : "unknown" });
    throw refusals.unavailable();
  }
  return c.json({ received: true }, 200);
});

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

webhookRoutes.openAPIRegistry.registerPath({
  method: "get",
  path: "/meta",
  tags: ["Webhooks"],
  summary: "Meta's webhook subscription handshake: echoes hub.challenge when the verify token matches",
  request: {
    query: z.object({
      "hub.mode": z.literal("subscribe"),
      "hub.verify_token": z.string(),
      "hub.challenge": z.string(),
    }),
  },
  responses: {
    200: { description: "The challenge, as plain text", content: { "text/plain": { schema: z.string() } } },
    403: problem("Wrong mode or verify token (`forbidden`)"),
  },
});

webhookRoutes.openAPIRegistry.registerPath({
  method: "post",
  path: "/meta",
  tags: ["Webhooks"],
  summary:
    "Meta's notifications (statuses, template and account updates, user preferences); 200 once stored, applied within seconds",
  request: {
    headers: z.object({
      "x-hub-signature-256": z.string().openapi({ description: "sha256=<hex HMAC-SHA256 of the raw body>" }),
    }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({ object: z.literal("whatsapp_business_account"), entry: z.array(z.looseObject({})) })
            .openapi("MetaNotification"),
        },
      },
    },
  },
  responses: {
    200: {
      description: "Stored; its effects show in the API within a few seconds",
      content: { "application/json": { schema: z.object({ received: z.literal(true) }) } },
    },
    400: problem("Signed, but not a WhatsApp notification (`invalid_notification`)"),
    401: problem("Missing or wrong X-Hub-Signature-256 (`invalid_signature`); nothing is stored"),
    413: problem("Body over 1 MiB (`payload_too_large`)"),
    503: problem("Could not be stored (`webhook_unavailable`); Meta retries"),
  },
});
