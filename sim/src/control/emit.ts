// `POST /_sim/webhooks/emit` and `/emit-event`: build Meta's webhooks for stored messages (or an
// account / template event), sign them like Meta and post them to the gateway, or just return them
// (dryRun) so a test can feed them to the gateway itself.
import { errorTitle } from "../graph/errors";
import { makeRng, shuffleInPlace } from "../ids";
import { registryStub } from "../state/stubs";
import { buildStatusPayload, type StatusItem, type WebhookStatus } from "../webhooks/build";
import { type PostedWebhook, postWebhook, signJson } from "../webhooks/post";
import type { EmitInput, EventInput } from "./schemas";

export interface EmitResult {
  posted: PostedWebhook[];
  unknownWamids: string[];
}

async function deliver(
  env: SimEnv,
  bodies: string[],
  dryRun: boolean,
  url?: string,
): Promise<PostedWebhook[]> {
  const signed = await Promise.all(bodies.map((b) => signJson(env, b)));
  if (dryRun) return signed;
  const out: PostedWebhook[] = [];
  // One after another: the order of posts is part of what a test asks for (e.g. read before delivered).
  for (const hook of signed) out.push(await postWebhook(env, url ?? env.SIM_GATEWAY_WEBHOOK_URL, hook));
  const failed = out.filter((h) => h.status === undefined || h.status >= 300).length;
  await registryStub(env).registryRecordWebhooks(out.length - failed, failed);
  return out;
}

/**
 * Statuses are ordered status-major (every message's `sent`, then every `delivered`, ...), cut into
 * POSTs of `batch` statuses (default 1, as Meta mostly does). `shuffle` randomises that order,
 * `duplicate` posts every body a second time after all the first copies (Meta's retries).
 */
export async function emitStatuses(env: SimEnv, input: EmitInput): Promise<EmitResult> {
  const { messages, unknown } = await registryStub(env).registryFindMessages(input.wamids ?? "all");
  const statuses: WebhookStatus[] =
    input.statuses ?? (input.fail ? ["failed"] : ["sent", "delivered", "read"]);
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const error = {
    code: input.fail?.code ?? 131026,
    title: input.fail?.title ?? errorTitle(input.fail?.code ?? 131026),
    message: input.fail?.message,
    details: input.fail?.details,
  };
  const items: StatusItem[] = statuses.flatMap((status) =>
    messages.map((m) => ({
      wabaId: m.wabaId,
      phoneNumberId: m.phoneNumberId,
      displayPhoneNumber: m.displayPhoneNumber,
      wamid: m.wamid,
      to: m.to,
      product: m.product,
      category: m.category,
      status,
      timestamp,
      error: status === "failed" ? error : undefined,
    })),
  );
  const rng = makeRng(input.seed);
  if (input.shuffle) shuffleInPlace(items, rng);
  const batch = input.batch ?? 1;
  let payloads: string[] = [];
  for (let i = 0; i < items.length; i += batch)
    payloads.push(JSON.stringify(buildStatusPayload(items.slice(i, i + batch))));
  if (input.duplicate) payloads = [...payloads, ...payloads];
  if (input.shuffle && input.duplicate) shuffleInPlace(payloads, rng);
  return { posted: await deliver(env, payloads, input.dryRun ?? false, input.url), unknownWamids: unknown };
}

export async function emitEvent(env: SimEnv, input: EventInput): Promise<EmitResult | { error: string }> {
  const r = await registryStub(env).registryEvent(input);
  if ("error" in r) return r;
  return { posted: await deliver(env, [r.body], input.dryRun ?? false, input.url), unknownWamids: [] };
}
