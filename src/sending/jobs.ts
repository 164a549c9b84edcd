/**
 * Bodies of the send queue: versioned and discriminated, so a deploy that changes the shape can
 * still read what an older version enqueued. A job carries a chunk of recipients, never one queue
 * message per recipient: a seq range of a campaign (fan-out) or explicit ids (retries, individual
 * sends). The rows themselves live in D1.
 */
export interface SendIdsJobV1 {
  v: 1;
  kind: "send";
  campaignId: string;
  botId: string;
  messageIds: string[];
}

export interface SendRangeJobV1 {
  v: 1;
  kind: "send_range";
  campaignId: string;
  botId: string;
  /** Inclusive seq range of the campaign's messages; only those still queued are sent. */
  fromSeq: number;
  toSeq: number;
}

export type QueueJob = SendIdsJobV1 | SendRangeJobV1;

export function isQueueJob(body: unknown): body is QueueJob {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  if (b.v !== 1 || typeof b.campaignId !== "string" || typeof b.botId !== "string") return false;
  if (b.kind === "send")
    return Array.isArray(b.messageIds) && b.messageIds.every((id) => typeof id === "string");
  if (b.kind === "send_range") return Number.isInteger(b.fromSeq) && Number.isInteger(b.toSeq);
  return false;
}

export function sendQueue(env: Env): Queue<QueueJob> {
  return env.SEND_QUEUE as Queue<QueueJob>;
}
