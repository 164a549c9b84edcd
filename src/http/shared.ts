import { z } from "@hono/zod-openapi";
import type { StoredAnswer } from "./idempotency";

export const RouteEnum = z.enum(["mm_lite", "cloud_api"]);
export const RouteReasonEnum = z.enum([
  "bot_restricted",
  "template_not_marketing",
  "mm_lite_active",
  "mm_lite_activated",
  "waba_not_onboarded",
  "mm_lite_sync_pending",
  "meta_status_unavailable",
  "cloud_api_requested",
  "mm_lite_rejected_fallback",
]);

export const IdempotencyHeader = z.object({
  "idempotency-key": z.string().optional().openapi({
    description: "Same key + same body within 24 h → the first answer again; nothing is sent twice",
  }),
});

/** A stored (possibly replayed) answer; error answers keep their problem+json type. */
export function answerJson(answer: StoredAnswer): Response {
  const type = answer.status >= 400 ? "application/problem+json" : "application/json";
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { "Content-Type": type },
  });
}
