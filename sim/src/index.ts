// Meta simulator Worker: a stand-in for Meta's Graph API (sends, WABA status, templates, webhooks) so
// the gateway can be developed, tested and benchmarked without Meta. See sim/README.md.
import { app } from "./app";

export { SimState } from "./state/sim-state";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<SimEnv>;
