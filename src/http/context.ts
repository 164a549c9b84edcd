import { OpenAPIHono } from "@hono/zod-openapi";
import type { BotRow } from "../db/schema";
import { errors } from "../lib/errors";

export interface AppEnv {
  Bindings: Env;
  Variables: { bot: BotRow };
}

/**
 * Every sub-app validates with zod and throws into the one error handler: a schema violation is a
 * 400 `invalid_request` listing each failing path, never Hono's default text answer.
 */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const contentType = c.req.header("content-type") ?? "";
      if (result.target === "json" && !contentType.includes("json")) {
        throw errors.invalidRequest([], "Send the body as JSON with Content-Type: application/json");
      }
      throw errors.invalidRequest(
        result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
      );
    },
  });
}
