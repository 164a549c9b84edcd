// Routing: /_sim/* is the control API, /v{major}.{minor}/* is the Graph API, anything else is 404.
import { Hono } from "hono";
import { control } from "./control/routes";
import { DroppedConnection } from "./graph/respond";
import { graph } from "./graph/routes";

export const app = new Hono<{ Bindings: SimEnv }>();

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
