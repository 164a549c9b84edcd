// Turns a GraphOutcome into the HTTP answer: optional sleep (latency / timeout faults), then either
// Meta's JSON or a broken connection.
import { sleep } from "../ids";
import type { GraphOutcome } from "./errors";

/** Thrown to make the runtime abort the request instead of answering (a "dropped" Meta call). */
export class DroppedConnection extends Error {
  constructor() {
    super("meta-sim: connection dropped by an injected timeout fault");
    this.name = "DroppedConnection";
  }
}

export async function respond(o: GraphOutcome): Promise<Response> {
  if (o.delayMs && o.delayMs > 0) await sleep(o.delayMs);
  if (o.drop) throw new DroppedConnection();
  return Response.json(o.body, { status: o.status });
}
