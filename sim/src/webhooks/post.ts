// Delivers a signed webhook to the gateway. Host "gateway" means the GATEWAY service binding (two
// Workers under one `wrangler dev`); any other host is reached with plain fetch.
import { signBody } from "./sign";

export interface PostedWebhook {
  /** HTTP status the gateway answered; absent on dry runs and network errors. */
  status?: number;
  /** The network error, or for a non-2xx answer its content type and the start of its body. */
  error?: string;
  /** The exact raw body that was signed (and posted). */
  body: string;
  signature: string;
}

/** Signs the exact text that will be posted. */
export async function signJson(env: SimEnv, body: string): Promise<PostedWebhook> {
  return { body, signature: await signBody(env.SIM_APP_SECRET, body) };
}

export async function postWebhook(env: SimEnv, url: string, hook: PostedWebhook): Promise<PostedWebhook> {
  const init: RequestInit = {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-hub-signature-256": hook.signature,
      "user-agent": "facebookexternalua",
    },
    body: hook.body,
  };
  const host = new URL(url).hostname;
  // RFC 6761: ".invalid" never resolves. The test pool points the sim there; failing fast here
  // avoids workerd logging a DNS error for every auto-emitted webhook.
  if (host.endsWith(".invalid")) return { ...hook, error: `unreachable host ${host}` };
  try {
    // The binding is absent under the test pool, hence the runtime check despite the generated type.
    const viaBinding = host === "gateway" && env.GATEWAY !== undefined;
    const res = viaBinding ? await env.GATEWAY.fetch(url, init) : await fetch(url, init);
    if (res.ok) {
      await res.body?.cancel();
      return { ...hook, status: res.status };
    }
    const answer = (await res.text().catch(() => "")).slice(0, 300);
    return {
      ...hook,
      status: res.status,
      error: `${res.headers.get("content-type") ?? ""} ${answer}`.trim(),
    };
  } catch (err) {
    return { ...hook, error: err instanceof Error ? err.message : String(err) };
  }
}
