import { getConfig } from "../config";
import { MetaClient } from "./client";

/**
 * The Graph API is reached with plain fetch, except that the host `meta-sim` means the local Meta
 * simulator, reached through the META_SIM service binding (auxiliary Workers have no port of their
 * own under `wrangler dev`). Any other host — graph.facebook.com or an external fake given with
 * `--var META_GRAPH_URL:...` — goes over the network.
 */
export function metaFetch(env: Env): (req: Request) => Promise<Response> {
  const url = new URL(getConfig(env).META_GRAPH_URL);
  if (url.hostname === "meta-sim" && env.META_SIM) return (req) => env.META_SIM.fetch(req);
  return (req) => fetch(req);
}

export function metaClient(env: Env): MetaClient {
  const config = getConfig(env);
  return new MetaClient({
    baseUrl: config.META_GRAPH_URL,
    accessToken: config.META_ACCESS_TOKEN,
    fetch: metaFetch(env),
    timeoutMs: config.META_TIMEOUT_MS,
  });
}
