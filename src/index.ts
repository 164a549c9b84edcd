import { createApp } from "./app";
import { handleDeadLetters, handleSendBatch } from "./sending/consumer";
import type { QueueJob } from "./sending/jobs";
import { sweepStuckMessages } from "./sending/sweeper";
import { handleWebhookBatch, handleWebhookDeadLetters } from "./webhooks/consumer";
import { isDeadLetterQueue, isWebhookQueue } from "./webhooks/inbox";

export { WabaGate } from "./gate/waba-gate";

const app = createApp();

/** The Worker: HTTP through Hono, the send and webhooks queues with their dead-letter queues, the cron. */
export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    if (isWebhookQueue(batch.queue)) {
      const notifications = batch as MessageBatch<unknown>;
      if (isDeadLetterQueue(batch.queue)) await handleWebhookDeadLetters(notifications, env);
      else await handleWebhookBatch(notifications, env);
    } else if (batch.queue.endsWith("-dlq")) await handleDeadLetters(batch, env);
    else await handleSendBatch(batch, env, ctx);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepStuckMessages(env));
  },
} satisfies ExportedHandler<Env, QueueJob>;
