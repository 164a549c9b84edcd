// The Graph API surface under /v{major}.{minor}/: the two send endpoints (served by the number's line)
// and the WABA / template reads (served by the registry).
import { Hono } from "hono";
import { lineStub, registryStub } from "../state/stubs";
import type { SendEndpoint } from "../types";
import { requireToken } from "./auth";
import { unknownObject } from "./errors";
import { respond } from "./respond";
import { validateSend } from "./send-validate";

export const graph = new Hono<{ Bindings: SimEnv }>();

graph.use("*", requireToken);

function sendRoute(endpoint: SendEndpoint) {
  return async (c: { req: { param(k: "id"): string; json(): Promise<unknown> }; env: SimEnv }) => {
    // Meta counts a send when it arrives, so the arrival is stamped here, before the body is read
    // and before the hop to the number's line (whose queue would otherwise bunch arrivals up).
    const arrivedAt = Date.now();
    const id = c.req.param("id");
    const body = await c.req.json().catch(() => undefined);
    // Shape checks are stateless, so they run here; the line decides everything else.
    const check = validateSend(body, endpoint);
    return respond(await lineStub(c.env, id).lineSend(endpoint, id, check, arrivedAt));
  };
}

graph.post("/:id/messages", sendRoute("send_cloud"));
graph.post("/:id/marketing_messages", sendRoute("send_mm_lite"));

graph.get("/:id/message_templates", async (c) =>
  respond(await registryStub(c.env).registryReadTemplates(c.req.param("id"), c.req.url)),
);

graph.get("/:id", async (c) =>
  respond(await registryStub(c.env).registryReadNode(c.req.param("id"), c.req.query("fields") ?? null)),
);

// Any other Graph path: Meta's "unsupported request" for the first path segment.
graph.all("*", (c) => {
  const id = new URL(c.req.url).pathname.split("/")[2] ?? "";
  return respond(unknownObject(c.req.method === "GET" ? "get" : "post", id));
});
