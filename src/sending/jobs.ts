/**
 * Bodies of the send queue: versioned and discriminated, so a deploy that changes the shape can
 * still read what an older version enqueued. A job carries a chunk of message ids (not one queue
 * message per recipient); the rows themselves live in D1.
 */
export interface SendJobV1 {
  v: 1;
  kind: "send";
  campaignId: string;
  botId: string;
  messageIds: string[];
}

export type QueueJob = SendJobV1;

export function isQueueJob(body: unknown): body is QueueJob {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Partial<SendJobV1>;
  return (
    b.v === 1 &&
    b.kind === "send" &&
    typeof b.campaignId === "string" &&
    typeof b.botId === "string" &&
    Array.isArray(b.messageIds)
  );
}

export function sendQueue(env: Env): Queue<QueueJob> {
  return env.SEND_QUEUE as Queue<QueueJob>;
}
