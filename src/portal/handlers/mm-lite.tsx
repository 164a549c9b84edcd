/** "Connect MM Lite API": the steps and the status panel. */
import { eq } from "drizzle-orm";
import type { Hono } from "hono";
import { type ConnectionView, connectionView, connectMmLite } from "../../connections/connect";
import { type MmLiteStatusView, mmLiteStatus } from "../../connections/status";
import { db } from "../../db/client";
import { wabas } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { log } from "../../lib/log";
import {
  firstMissing,
  parseAdAccounts,
  type StepKey,
  stepsFor,
  type WizardBot,
  type WizardState,
} from "../connect-steps";
import type { PortalContext, PortalEnv } from "../guard";
import { ConnectStep } from "../pages/mm-lite";
import { StatusPanel } from "../pages/mm-lite-status";
import type { FormError } from "../pages/send";
import { page, problemText } from "../render";

async function wizardBot(c: PortalContext): Promise<{ bot: WizardBot; connectionId: string | null }> {
  const b = c.get("bot");
  const waba = await db(c.env).select().from(wabas).where(eq(wabas.id, b.wabaId)).get();
  return {
    bot: {
      name: b.name,
      businessId: waba?.businessId ?? b.businessId,
      wabaId: b.wabaId,
      phoneNumberId: b.phoneNumberId,
      wabaType: waba?.type ?? "shared",
    },
    connectionId: waba?.connectionId ?? null,
  };
}

function wizardState(
  get: (name: string) => string | undefined,
  all: (name: string) => string[],
): WizardState {
  return {
    permission: get("permission") === "yes",
    business: get("business") ?? null,
    numbers: all("numbers").slice(0, 10),
    ads: (get("ads") ?? "").slice(0, 4000),
    migration: get("migration") === "accepted",
  };
}

const STEP_KEYS = new Set<StepKey>([
  "permission",
  "business",
  "numbers",
  "ad-accounts",
  "review",
  "migration",
  "confirm",
]);

export function mmLiteHandlers(app: Hono<PortalEnv>): void {
  app.get("/mm-lite", async (c) => {
    const bot = c.get("bot");
    let status: MmLiteStatusView | null = null;
    try {
      status = await mmLiteStatus(c.env, bot);
    } catch (err) {
      log.warn("portal_mm_lite_status_failed", {
        botId: bot.id,
        error: err instanceof Error ? err.name : "unknown",
      });
    }
    const { connectionId } = await wizardBot(c);
    const connection: ConnectionView | null = connectionId ? await connectionView(c.env, connectionId) : null;
    return page(
      c,
      { title: "MM Lite API", nav: "mm-lite" },
      <StatusPanel status={status} connection={connection} connected={c.req.query("connected") === "1"} />,
    );
  });

  app.get("/mm-lite/connect", async (c) => {
    const { bot, connectionId } = await wizardBot(c);
    if (connectionId) return c.redirect("/portal/mm-lite", 303);
    const state = wizardState(
      (n) => c.req.query(n),
      (n) => c.req.queries(n) ?? [],
    );
    const asked = c.req.query("step") as StepKey;
    let step: StepKey = STEP_KEYS.has(asked) ? asked : "permission";
    if (!stepsFor(bot.wabaType === "obo").includes(step)) step = "confirm";
    const missing = firstMissing(state, bot, step);
    const errors: FormError[] = [];
    if (missing) {
      step = missing.step;
      errors.push({ text: missing.error });
    }
    return page(
      c,
      { title: "Connect MM Lite API", nav: "mm-lite", status: errors.length > 0 ? 422 : 200 },
      <ConnectStep step={step} state={state} bot={bot} csrf={c.get("csrf")} errors={errors} />,
    );
  });

  app.post("/mm-lite/connect", async (c) => {
    const { bot } = await wizardBot(c);
    const form = await c.req.parseBody({ all: true });
    const one = (n: string) => {
      const v = form[n];
      return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : undefined;
    };
    const all = (n: string) => {
      const v = form[n];
      return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
    };
    const state = wizardState(one, all);
    const show = (step: StepKey, status: number, text: string) =>
      page(
        c,
        { title: "Connect MM Lite API", nav: "mm-lite", status },
        <ConnectStep step={step} state={state} bot={bot} csrf={c.get("csrf")} errors={[{ text }]} />,
      );
    const missing = firstMissing(state, bot, "confirm");
    if (missing) return show(missing.step, 422, missing.error);
    if (one("accept") !== "yes")
      return show("confirm", 422, "Confirm that you have reviewed the information.");
    const ads = parseAdAccounts(state.ads);
    if (!ads.ok) return show("ad-accounts", 422, ads.error);
    try {
      await connectMmLite(c.env, c.get("bot"), {
        businessId: state.business ?? "",
        wabaIds: [bot.wabaId],
        phoneNumberIds: state.numbers,
        adAccountIds: ads.ids,
        acceptMigration: state.migration,
      });
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      if (err.code === "obo_migration_required") {
        // The WABA became On-Behalf-Of since the review: the migration step, then the acceptance again.
        return show("migration", 409, problemText(err));
      }
      return show("confirm", err.status, problemText(err));
    }
    return c.redirect("/portal/mm-lite?connected=1", 303);
  });
}
