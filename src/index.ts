import { createApp } from "./app";
import { handleDeadLetters, handleSendBatch } from "./sending/consumer";
import type { QueueJob } from "./sending/jobs";
import { sweepStuckMessages } from "./sending/sweeper";

export { WabaGate } from "./gate/waba-gate";

const app = createApp();

/** The Worker: HTTP through Hono, the send queue and its dead-letter queue, and the sweeper cron. */
export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    if (batch.queue.endsWith("-dlq")) await handleDeadLetters(batch, env);
    else await handleSendBatch(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweepStuckMessages(env));
  },
} satisfies ExportedHandler<Env, QueueJob>;
