// Graph endpoints need the configured access token, as a Bearer header or (as Graph also allows) an
// access_token query parameter. Anything else gets Meta's OAuth error 190.
import type { MiddlewareHandler } from "hono";
import { graphError } from "./errors";

export const requireToken: MiddlewareHandler<{ Bindings: SimEnv }> = async (c, next) => {
  const header = c.req.header("authorization");
  const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? c.req.query("access_token");
  if (token !== c.env.SIM_ACCESS_TOKEN) {
    const e = graphError(190);
    return c.json(e.body as object, e.status as 401);
  }
  await next();
};
