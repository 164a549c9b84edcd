/**
 * What every portal request goes through: security headers with a per-response style nonce, the
 * session (signed cookie → bot, scoped and revocable), and CSRF on every POST (Origin /
 * Sec-Fetch-Site when the browser sends them, then the session's synchronizer token).
 */
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { getConfig } from "../config";
import { db } from "../db/client";
import { type BotRow, bots } from "../db/schema";
import { AppError } from "../lib/errors";
import { log } from "../lib/log";
import {
  checkCsrfToken,
  csrfToken,
  keyFingerprint,
  type PortalKeys,
  portalKeys,
  randomId,
  readCookie,
  SESSION_COOKIE,
  type Session,
  verifySession,
} from "./session";

export interface PortalEnv {
  Bindings: Env;
  Variables: {
    nonce: string;
    keys: PortalKeys;
    /** The verified session (anonymous or signed in), or null. */
    session: Session | null;
    /** The signed-in bot (set by `requireBot`). */
    bot: BotRow;
    /** The session's CSRF token, for forms. */
    csrf: string;
  };
}

export type PortalContext = Context<PortalEnv>;

/** A signed-in session lasts 8 hours; the anonymous one of the sign-in form, 1 hour. */
export const SESSION_TTL_SECONDS = 8 * 3600;
export const ANONYMOUS_TTL_SECONDS = 3600;

/** KV: `portal-revoked:{sid}` → "1" until the session's own expiry (see README.md). */
export const revokedKey = (sid: string) => `portal-revoked:${sid}`;

/**
 * The HMAC keys come from ADMIN_TOKEN (HKDF, two labels): the one server secret every deployment
 * already has. Rotating ADMIN_TOKEN signs everybody out of the portal.
 */
export function keysFor(env: Env): Promise<PortalKeys> {
  return portalKeys(getConfig(env).ADMIN_TOKEN);
}

export const PAGE_CSP = (nonce: string) =>
  [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");

/** Headers on every portal answer (pages, redirects, downloads, errors). */
export const portalHeaders = createMiddleware<PortalEnv>(async (c, next) => {
  const nonce = randomId(12);
  c.set("nonce", nonce);
  await next();
  const h = c.res.headers;
  h.set("Content-Security-Policy", PAGE_CSP(nonce));
  h.set("X-Frame-Options", "DENY");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("Referrer-Policy", "same-origin");
  h.set("Cross-Origin-Opener-Policy", "same-origin");
  h.set("Cache-Control", "no-store");
});

/** Reads and verifies the session cookie; a signed-in session must still match its bot. */
export const loadSession = createMiddleware<PortalEnv>(async (c, next) => {
  const keys = await keysFor(c.env);
  c.set("keys", keys);
  const session = await verifySession(keys, readCookie(c.req.header("cookie"), SESSION_COOKIE));
  c.set("session", session);
  if (session?.bot) {
    const [revoked, bot] = await Promise.all([
      c.env.CACHE.get(revokedKey(session.sid)),
      db(c.env).select().from(bots).where(eq(bots.id, session.bot)).get(),
    ]);
    // A revoked session, a deleted bot or a rotated key: treated as no session at all.
    if (revoked !== null || !bot || keyFingerprint(bot.keyHash) !== session.kh) {
      c.set("session", null);
    } else {
      c.set("bot", bot);
    }
  }
  const current = c.get("session");
  if (current) c.set("csrf", await csrfToken(keys, current.sid));
  await next();
});

/** Where to go back after signing in: only a portal path of this site. */
export function safeNext(next: string | undefined | null): string {
  if (!next?.startsWith("/portal/") || next.startsWith("//") || /[\\\s]/.test(next)) {
    return "/portal/campaigns";
  }
  return next.slice(0, 512);
}

/** Pages need a signed-in bot: without one, to the sign-in form (and back here afterwards). */
export const requireBot = createMiddleware<PortalEnv>(async (c, next) => {
  if (!c.get("session")?.bot) {
    const url = new URL(c.req.url);
    const back = c.req.method === "GET" ? `${url.pathname}${url.search}` : "/portal/campaigns";
    return c.redirect(`/portal/sign-in?next=${encodeURIComponent(safeNext(back))}`, 303);
  }
  await next();
});

export function csrfRefused(detail: string): AppError {
  return new AppError(403, "csrf_refused", "Request refused", { detail });
}

/**
 * The browser's word on where a POST comes from: refused when `Sec-Fetch-Site` says another
 * site or origin, or when `Origin` is present and is not this site's origin (`null` included).
 */
export function checkOrigin(c: PortalContext): void {
  const site = c.req.header("sec-fetch-site");
  const origin = c.req.header("origin");
  const foreign =
    (site !== undefined && site !== "same-origin" && site !== "none") ||
    (origin !== undefined && origin !== new URL(c.req.url).origin);
  if (foreign) {
    log.warn("portal_foreign_post", { path: c.req.path, fetchSite: site?.slice(0, 20) ?? null });
    throw csrfRefused(
      "This form did not come from the portal's own pages (another website or address sent it), so nothing was done.",
    );
  }
}

/** The synchronizer token of the current session (anonymous sessions included). */
export async function checkToken(c: PortalContext, token: unknown): Promise<void> {
  const session = c.get("session");
  if (!session) throw csrfRefused("Your session has expired. Reload the page and try again.");
  if (!(await checkCsrfToken(c.get("keys"), session.sid, token))) {
    log.warn("portal_csrf_refused", { path: c.req.path });
    throw csrfRefused("The form's security token is missing or wrong. Reload the page and try again.");
  }
}

/**
 * CSRF on every POST: the origin check, then the token from a urlencoded body (`_csrf`). A
 * multipart body is read by its route, which checks the token before it reads the file
 * (`streamingRoutes`); any other route refuses multipart outright.
 */
export function csrfGuard(streamingRoutes: string[]) {
  return createMiddleware<PortalEnv>(async (c, next) => {
    if (c.req.method !== "POST") return next();
    checkOrigin(c);
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type === "multipart/form-data") {
      if (!streamingRoutes.includes(c.req.path)) throw csrfRefused("Unexpected form encoding.");
      return next();
    }
    if (type !== "application/x-www-form-urlencoded") throw csrfRefused("Unexpected form encoding.");
    const length = Number(c.req.header("content-length") ?? "0");
    if (length > 64 * 1024) {
      throw new AppError(413, "payload_too_large", "Form too large", { detail: "The form is too large." });
    }
    const form = await c.req.parseBody();
    await checkToken(c, form._csrf);
    await next();
  });
}
