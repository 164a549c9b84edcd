import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import { adminRoutes } from "./http/admin";
import { CSV_BODY_LIMIT, campaignRoutes } from "./http/campaigns";
import { commandRoutes } from "./http/commands";
import { connectionRoutes } from "./http/connections";
import type { AppEnv } from "./http/context";
import { healthRoute, mountDocs } from "./http/docs";
import { messageRoutes } from "./http/messages";
import { allowedMethods } from "./http/methods";
import { AppError, errors, problemResponse } from "./lib/errors";
import { log } from "./lib/log";
import { portalRoutes } from "./portal/routes";
import { webhookRoutes } from "./webhooks/routes";

export const JSON_BODY_LIMIT = 10 * 1024 * 1024;

const jsonLimit = bodyLimit({
  maxSize: JSON_BODY_LIMIT,
  onError: () => {
    throw errors.payloadTooLarge(JSON_BODY_LIMIT);
  },
});

/**
 * Campaign bodies: JSON up to 10 MiB, CSV (raw or multipart) up to 100 MiB. A declared length over
 * the limit is refused before reading; a streamed CSV is also counted as it is read (audience/).
 */
const campaignBodyLimit = createMiddleware(async (c, next) => {
  if (c.req.method !== "POST") return next();
  const type = c.req.header("content-type") ?? "";
  const limit = type.includes("json") || type === "" ? JSON_BODY_LIMIT : CSV_BODY_LIMIT;
  const length = Number(c.req.header("content-length") ?? "0");
  if (length > limit) throw errors.payloadTooLarge(limit);
  if (limit === JSON_BODY_LIMIT) return jsonLimit(c, next);
  return next();
});

export function createApp() {
  const app = new OpenAPIHono<AppEnv>();

  // A known path with an unsupported method is a 405 before any auth runs (Hono alone would 404).
  let allowed: ((path: string) => string[]) | undefined;
  app.use("*", async (c, next) => {
    allowed ??= allowedMethods(app.routes);
    const methods = allowed(c.req.path);
    if (methods.length > 0 && !methods.includes(c.req.method)) {
      throw new AppError(405, "method_not_allowed", "Method not allowed", {
        detail: `${c.req.method} is not supported on ${c.req.path}`,
        headers: { Allow: methods.join(", ") },
      });
    }
    await next();
  });

  app.openapi(healthRoute, (c) => c.json({ ok: true as const }, 200));

  app.use("/admin/*", jsonLimit);
  app.use("/v1/messages/*", jsonLimit);
  app.use("/v1/messages", jsonLimit);
  app.route("/admin", adminRoutes);
  app.route("/v1/messages", messageRoutes);
  app.use("/v1/campaigns", campaignBodyLimit);
  app.route("/v1/campaigns", campaignRoutes);
  app.use("/v1/mm-lite/*", jsonLimit);
  app.route("/v1/mm-lite", connectionRoutes);
  app.route("/commands", commandRoutes);

  // Meta's webhooks: signed, not bot-authenticated; the body is read (bounded) by the route itself.
  app.route("/webhooks", webhookRoutes);

  // The web portal: server-rendered HTML pages, not part of the API document (src/portal/).
  app.route("/portal", portalRoutes);

  // /openapi.json (documents every route above, these three included) and /docs.
  mountDocs(app);

  app.notFound((c) =>
    problemResponse(
      new AppError(404, "not_found", "Not found", { detail: `No route for ${c.req.method} ${c.req.path}` }),
    ),
  );

  app.onError((err, c) => {
    if (err instanceof AppError) return problemResponse(err);
    if (err instanceof HTTPException && err.status === 400) {
      // Hono's validator throws this when the JSON body cannot be parsed.
      return problemResponse(errors.invalidJson());
    }
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(new AppError(err.status, "http_error", err.message || "Request refused"));
    }
    // Unexpected: log the kind and where, answer without internals.
    log.error("unhandled_error", {
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? err.name : "unknown",
      message: err instanceof Error ? err.message : undefined,
    });
    return problemResponse(new AppError(500, "internal_error", "Internal error"));
  });

  return app;
}
