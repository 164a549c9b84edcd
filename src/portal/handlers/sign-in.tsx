/** Sign-in (the API key form under an anonymous session) and sign-out. */
import type { Hono } from "hono";
import { findBotByKey } from "../../http/auth";
import { log } from "../../lib/log";
import {
  ANONYMOUS_TTL_SECONDS,
  type PortalContext,
  type PortalEnv,
  revokedKey,
  SESSION_TTL_SECONDS,
  safeNext,
} from "../guard";
import { SignIn } from "../pages/basic";
import { page, str } from "../render";
import { clearedSessionCookie, csrfToken, newSession, sessionCookie, signSession } from "../session";

/** The sign-in form under an anonymous session (its own CSRF token, replaced at sign-in). */
export async function signInPage(
  c: PortalContext,
  opts: { status?: number; error?: string; next?: string } = {},
) {
  let session = c.get("session");
  if (!session || session.bot) {
    session = newSession(null, ANONYMOUS_TTL_SECONDS);
    c.set("session", session);
    c.set("csrf", await csrfToken(c.get("keys"), session.sid));
    c.header("Set-Cookie", sessionCookie(await signSession(c.get("keys"), session), ANONYMOUS_TTL_SECONDS));
  }
  return page(
    c,
    { title: "Sign in", status: opts.status },
    <SignIn
      csrf={c.get("csrf")}
      next={safeNext(opts.next ?? c.req.query("next"))}
      error={opts.error}
      signedOut={c.req.query("signed_out") === "1"}
    />,
  );
}

export function signInHandlers(app: Hono<PortalEnv>): void {
  app.get("/", (c) => c.redirect(c.get("session")?.bot ? "/portal/campaigns" : "/portal/sign-in", 303));

  app.get("/sign-in", async (c) => {
    if (c.get("session")?.bot) return c.redirect(safeNext(c.req.query("next")), 303);
    return signInPage(c);
  });

  app.post("/sign-in", async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(str(form.next));
    const key = str(form.api_key).trim();
    const bot = key ? await findBotByKey(c.env, key) : null;
    if (!bot) {
      log.info("portal_sign_in_refused", {});
      return signInPage(c, { status: 401, error: "That API key is not valid.", next });
    }
    // A new session id at sign-in: nothing from the anonymous session carries over.
    const session = newSession(bot, SESSION_TTL_SECONDS);
    c.header("Set-Cookie", sessionCookie(await signSession(c.get("keys"), session), SESSION_TTL_SECONDS));
    log.info("portal_signed_in", { botId: bot.id });
    return c.redirect(next, 303);
  });

  app.post("/sign-out", async (c) => {
    const session = c.get("session");
    if (session?.bot) {
      const ttl = Math.max(60, session.exp - Math.floor(Date.now() / 1000));
      await c.env.CACHE.put(revokedKey(session.sid), "1", { expirationTtl: ttl });
    }
    c.header("Set-Cookie", clearedSessionCookie());
    return c.redirect("/portal/sign-in?signed_out=1", 303);
  });
}
