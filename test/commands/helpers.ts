// Driving POST /commands and waiting for what reaches the Meta simulator.
import { gw, sim, type TestBot } from "../helpers";

export const POSTMASTER = "postmaster@activecampaign.msging.net";
export const FULL = "application/vnd.iris.activecampaign.full-campaign+json";

/** POSTs a body exactly as given (an object is JSON-encoded; a string is sent as is). */
export async function command(bot: TestBot | { apiKey: string }, body: unknown) {
  const res = await gw("/commands", {
    method: "POST",
    key: bot.apiKey,
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any, res };
}

export function get(uri: string, id = crypto.randomUUID()) {
  return { id, to: POSTMASTER, method: "get", uri };
}

/** A `set /campaign/full` whose answer must be a success; returns the campaign resource. */
export async function created(bot: TestBot, body: Record<string, unknown>) {
  const { status, body: answer } = await command(bot, body);
  if (status !== 200 || answer.status !== "success") {
    throw new Error(`expected a success, got ${status} ${JSON.stringify(answer)}`);
  }
  return answer.resource as any;
}

/** Polls `get /campaigns/{id}` until the campaign has left `sending`. */
export async function untilDone(bot: TestBot, id: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await command(bot, get(`/campaigns/${id}`));
    if (body.resource?.status !== "sending" || Date.now() > until) return body.resource;
    await new Promise((r) => setTimeout(r, 150));
  }
}

export interface SimSend {
  to: string;
  template: string;
  language: string;
  params: string[];
  product: string;
}

export async function sendsAtMeta(bot: TestBot): Promise<SimSend[]> {
  const list = await sim("GET", `/_sim/messages?limit=5000&phoneNumberId=${bot.phoneNumberId}`);
  return list.messages;
}

/** Adds (or changes) templates of the bot's WABA at the simulator. */
export async function addTemplates(
  bot: TestBot,
  templates: { name: string; language: string; status: string; category: string; bodyText: string }[],
) {
  await sim("PUT", `/_sim/wabas/${bot.wabaId}`, { templates });
}
