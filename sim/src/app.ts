// Routing: /_sim/* is the control API, /v{major}.{minor}/* is the Graph API, anything else is 404.
// Before the first request of an isolate is routed, the registry applies SIM_SEED / SIM_AUTO_WEBHOOKS.
import { Hono } from "hono";
import { control } from "./control/routes";
import { DroppedConnection } from "./graph/respond";
import { graph } from "./graph/routes";
import { registryStub } from "./state/stubs";

export const app = new Hono<{ Bindings: SimEnv }>();

/** Settled once per isolate; a failure (a bad var) is not kept, so every request reports it. */
let booted: Promise<void> | undefined;

app.use("*", async (c, next) => {
  booted ??= registryStub(c.env)
    .registryBoot()
    .catch((err: unknown) => {
      booted = undefined;
      console.error(`meta-sim: start-up configuration failed: ${err instanceof Error ? err.message : err}`);
      throw err;
    });
  await booted;
  await next();
});

app.route("/_sim", control);
app.route("/:version{v[0-9]+\\.[0-9]+}", graph);
app.get("/", (c) => c.json({ sim: "mmlite-meta-sim", graph: "/v25.0/...", control: "/_sim/..." }));
app.notFound((c) =>
  c.json({ error: { message: "Unknown path components", type: "OAuthException", code: 2500 } }, 404),
);
app.onError((err) => {
  // An injected "drop" must reach the runtime so the caller sees a broken request, not an answer.
  if (err instanceof DroppedConnection) throw err;
  return Response.json({ error: "meta-sim internal error", detail: String(err) }, { status: 500 });
});
