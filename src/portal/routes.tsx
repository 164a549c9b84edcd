/**
 * The web portal (`/portal`): server-rendered pages over the same use cases as the REST API, for
 * the business user of the source article. No script and no external asset; every page is scoped
 * to the signed-in bot; every POST is CSRF-checked (./guard.ts). The handlers live in ./handlers/.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../lib/errors";
import { log } from "../lib/log";
import { csrfGuard, loadSession, type PortalEnv, portalHeaders, requireBot } from "./guard";
import { campaignHandlers } from "./handlers/campaigns";
import { mmLiteHandlers } from "./handlers/mm-lite";
import { BULK_PATH, sendHandlers } from "./handlers/send";
import { signInHandlers, signInPage } from "./handlers/sign-in";
import { ErrorView } from "./pages/basic";
import { page } from "./render";

export const portalRoutes = new Hono<PortalEnv>();

portalRoutes.use("*", portalHeaders, loadSession);
for (const path of [
  "/campaigns",
  "/campaigns/*",
  "/send",
  "/send/*",
  "/mm-lite",
  "/mm-lite/*",
  "/sign-out",
]) {
  portalRoutes.use(path, requireBot);
}
// Small forms are bounded; the bulk upload is bounded by the CSV reader (100 MiB, streamed).
const formLimit = bodyLimit({
  maxSize: 64 * 1024,
  onError: () => {
    throw new AppError(413, "payload_too_large", "Form too large", { detail: "The form is too large." });
  },
});
portalRoutes.use("*", async (c, next) =>
  c.req.method === "POST" && c.req.path !== BULK_PATH ? formLimit(c, next) : next(),
);
portalRoutes.use("*", csrfGuard([BULK_PATH]));

signInHandlers(portalRoutes);
campaignHandlers(portalRoutes);
sendHandlers(portalRoutes);
mmLiteHandlers(portalRoutes);

// ------------------------------------------------------------------------------- errors

portalRoutes.get("*", (c) => {
  if (c.req.path === "/portal/")
    return c.redirect(c.get("session")?.bot ? "/portal/campaigns" : "/portal/sign-in", 303);
  throw new AppError(404, "not_found", "Page not found", { detail: "There is no such page in the portal." });
});

portalRoutes.onError(async (err, c) => {
  if (err instanceof AppError) {
    if (c.req.path === "/portal/sign-in" && err.code === "csrf_refused") {
      // An expired or missing sign-in form: a fresh form, with the reason.
      c.set("session", null);
      return signInPage(c, { status: 403, error: "The sign-in form expired. Please sign in again." });
    }
    const signedIn = Boolean(c.get("session")?.bot);
    const title = err.status === 404 ? "Not found" : err.title;
    const detail =
      err.status === 404 && err.code === "not_found" && err.title === "Campaign not found"
        ? "There is no such campaign for this bot."
        : err.detail;
    const res = await page(
      c,
      { title, status: err.status },
      <ErrorView status={err.status} title={title} detail={detail} signedIn={signedIn} />,
    );
    for (const [k, v] of Object.entries(err.headers ?? {})) res.headers.set(k, v);
    return res;
  }
  log.error("portal_unhandled_error", {
    method: c.req.method,
    path: c.req.path,
    error: err instanceof Error ? err.name : "unknown",
    message: err instanceof Error ? err.message : undefined,
  });
  return page(
    c,
    { title: "Something went wrong", status: 500 },
    <ErrorView
      status={500}
      title="Something went wrong"
      detail="The page could not be shown. Try again in a moment."
      signedIn={Boolean(c.get("session")?.bot)}
    />,
  );
});
