/**
 * The web portal (`/portal`): server-rendered pages over the same use cases as the REST API, for
 * the business user of the source article. No script and no external asset; every page is scoped
 * to the signed-in bot; every POST is CSRF-checked (./guard.ts).
 */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Child } from "hono/jsx";
import { csvAudience } from "../campaigns/audience";
import { createCampaign } from "../campaigns/create";
import { sendIndividual } from "../campaigns/individual";
import { campaignDetail, findCampaign, listCampaigns } from "../campaigns/queries";
import { reportStream } from "../campaigns/report-stream";
import { type ConnectionView, connectionView, connectMmLite } from "../connections/connect";
import { type MmLiteStatusView, mmLiteStatus } from "../connections/status";
import { db } from "../db/client";
import { wabas } from "../db/schema";
import { findBotByKey } from "../http/auth";
import { CSV_BODY_LIMIT } from "../http/campaigns";
import { type StoredAnswer, withIdempotency } from "../http/idempotency";
import { AppError } from "../lib/errors";
import { log } from "../lib/log";
import {
  ANONYMOUS_TTL_SECONDS,
  checkToken,
  csrfGuard,
  loadSession,
  type PortalContext,
  type PortalEnv,
  portalHeaders,
  requireBot,
  revokedKey,
  SESSION_TTL_SECONDS,
  safeNext,
} from "./guard";
import { Layout, type NavKey } from "./layout";
import { ErrorView, SignIn } from "./pages/basic";
import { CampaignDetailView, CampaignList } from "./pages/campaigns";
import {
  ConnectStep,
  firstMissing,
  parseAdAccounts,
  StatusPanel,
  type StepKey,
  stepsFor,
  type WizardBot,
  type WizardState,
} from "./pages/mm-lite";
import {
  type Audience,
  type BulkAnswer,
  BulkForm,
  BulkResult,
  ChooseTemplate,
  type FormError,
  IndividualForm,
} from "./pages/send";
import { clearedSessionCookie, csrfToken, newSession, randomId, sessionCookie, signSession } from "./session";
import {
  approvedTemplates,
  findTemplate,
  type PickerTemplate,
  parseTemplateRef,
  sampleCsv,
} from "./templates";
import { readBulkUpload } from "./upload";

const PAGE_SIZE = 20;
const REFRESH_SECONDS = 5;
const BULK_PATH = "/portal/send/bulk";

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

// ------------------------------------------------------------------------------- rendering

async function page(
  c: PortalContext,
  opts: { title: string; nav?: NavKey; status?: number; refreshSeconds?: number },
  body: Child,
): Promise<Response> {
  const signedIn = Boolean(c.get("session")?.bot);
  const html = (
    <Layout
      title={opts.title}
      nonce={c.get("nonce")}
      bot={signedIn ? { name: c.get("bot").name } : null}
      csrf={c.get("csrf")}
      nav={opts.nav ?? null}
      refreshSeconds={opts.refreshSeconds}
    >
      {body}
    </Layout>
  ) as unknown as { toString(): string | Promise<string> };
  return c.html(`<!doctype html>${await html.toString()}`, (opts.status ?? 200) as 200);
}

/** A problem as the user should read it: the title, and the detail when there is one. */
function problemText(p: { title?: unknown; detail?: unknown }): string {
  const title = typeof p.title === "string" ? p.title : "The request was refused";
  return typeof p.detail === "string" && p.detail ? `${title}: ${p.detail}` : title;
}

function answerProblem(answer: StoredAnswer): {
  status: number;
  text: string;
  body: Record<string, unknown>;
} {
  const body = (answer.body ?? {}) as Record<string, unknown>;
  return { status: answer.status, text: problemText(body), body };
}

const FORM_KEY = /^[A-Za-z0-9_-]{16,64}$/;
const formKeyOf = (v: unknown) => (typeof v === "string" && FORM_KEY.test(v) ? `portal:${v}` : undefined);
const str = (v: unknown) => (typeof v === "string" ? v : "");

// ------------------------------------------------------------------------------- sign-in

portalRoutes.get("/", (c) =>
  c.redirect(c.get("session")?.bot ? "/portal/campaigns" : "/portal/sign-in", 303),
);

/** The sign-in form under an anonymous session (its own CSRF token, replaced at sign-in). */
async function signInPage(c: PortalContext, opts: { status?: number; error?: string; next?: string } = {}) {
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

portalRoutes.get("/sign-in", async (c) => {
  if (c.get("session")?.bot) return c.redirect(safeNext(c.req.query("next")), 303);
  return signInPage(c);
});

portalRoutes.post("/sign-in", async (c) => {
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

portalRoutes.post("/sign-out", async (c) => {
  const session = c.get("session");
  if (session?.bot) {
    const ttl = Math.max(60, session.exp - Math.floor(Date.now() / 1000));
    await c.env.CACHE.put(revokedKey(session.sid), "1", { expirationTtl: ttl });
  }
  c.header("Set-Cookie", clearedSessionCookie());
  return c.redirect("/portal/sign-in?signed_out=1", 303);
});

// ------------------------------------------------------------------------------- campaigns

const CURSOR = /^[A-Za-z0-9_]{1,64}$/;

portalRoutes.get("/campaigns", async (c) => {
  const raw = c.req.query("cursor");
  const cursor = raw && CURSOR.test(raw) ? raw : undefined;
  const { items, nextCursor } = await listCampaigns(c.env, c.get("bot").id, PAGE_SIZE, cursor);
  return page(
    c,
    { title: "Active messages", nav: "campaigns" },
    <CampaignList items={items} nextCursor={nextCursor} firstPage={cursor === undefined} />,
  );
});

portalRoutes.get("/campaigns/:id", async (c) => {
  const detail = await campaignDetail(c.env, c.get("bot").id, c.req.param("id"));
  const live = detail.status === "sending" && c.req.query("live") !== "0";
  return page(
    c,
    {
      title: `Performance: ${detail.name}`,
      nav: "campaigns",
      refreshSeconds: live ? REFRESH_SECONDS : undefined,
    },
    <>
      {c.req.query("sent") === "1" ? (
        <div class="alert ok" role="status">
          <p>
            <strong>Your message is queued.</strong> Follow it here.
          </p>
        </div>
      ) : null}
      <CampaignDetailView c={detail} live={live} refreshSeconds={REFRESH_SECONDS} />
    </>,
  );
});

portalRoutes.get("/campaigns/:id/report.csv", async (c) => {
  const campaign = await findCampaign(c.env, c.get("bot").id, c.req.param("id"));
  return new Response(reportStream(c.env.DB, campaign.id), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="campaign-${campaign.id}.csv"`,
    },
  });
});

// ------------------------------------------------------------------------------- send

async function templatesOrError(c: PortalContext): Promise<{ list: PickerTemplate[]; error?: FormError }> {
  try {
    return { list: await approvedTemplates(c.env, c.get("bot").wabaId) };
  } catch (err) {
    if (err instanceof AppError) return { list: [], error: { text: problemText(err) } };
    throw err;
  }
}

const audienceOf = (v: unknown): Audience => (v === "bulk" ? "bulk" : "individual");

portalRoutes.get("/send", async (c) => {
  const { list, error } = await templatesOrError(c);
  const audience = audienceOf(c.req.query("audience"));
  const ref = c.req.query("template");
  const chosen = findTemplate(list, parseTemplateRef(ref));
  const errors: FormError[] = error ? [error] : [];
  if (chosen && c.req.query("change") !== "1") {
    const common = { t: chosen, csrf: c.get("csrf"), formKey: randomId(), errors };
    return page(
      c,
      { title: "Send active message", nav: "send" },
      audience === "individual" ? (
        <IndividualForm {...common} values={{ to: "", params: [] }} />
      ) : (
        <BulkForm {...common} name="" />
      ),
    );
  }
  if (ref && !chosen && !error) {
    errors.push({
      text: "That template is not approved (or no longer exists). Pick another one.",
      field: "template",
    });
  }
  return page(
    c,
    { title: "Send active message", nav: "send", status: errors.length > 0 ? 422 : 200 },
    <ChooseTemplate templates={list} audience={audience} selected={ref} errors={errors} />,
  );
});

portalRoutes.get("/send/sample.csv", async (c) => {
  const { list } = await templatesOrError(c);
  const t = findTemplate(list, parseTemplateRef(c.req.query("template")));
  if (!t)
    throw new AppError(404, "not_found", "Template not found", {
      detail: "Pick an approved template first.",
    });
  return new Response(sampleCsv(t), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="sample-${t.name.replace(/[^A-Za-z0-9_-]/g, "_")}.csv"`,
    },
  });
});

/** The template a form names, or the first step again (with why). */
async function formTemplate(c: PortalContext, ref: unknown, audience: Audience) {
  const { list, error } = await templatesOrError(c);
  const t = findTemplate(list, parseTemplateRef(ref));
  if (t) return { t };
  const errors = [
    error ?? {
      text: "That template is not approved (or no longer exists). Pick another one.",
      field: "template",
    },
  ];
  return {
    response: await page(
      c,
      { title: "Send active message", nav: "send", status: error ? 503 : 422 },
      <ChooseTemplate templates={list} audience={audience} errors={errors} />,
    ),
  };
}

portalRoutes.post("/send/individual", async (c) => {
  const form = await c.req.parseBody();
  const picked = await formTemplate(c, form.template, "individual");
  if (!picked.t) return picked.response;
  const t = picked.t;
  const values = { to: str(form.to).trim(), params: t.paramNames.map((_, i) => str(form[`p_${i}`])) };
  const again = (status: number, errors: FormError[]) =>
    page(
      c,
      { title: "Send active message", nav: "send", status },
      <IndividualForm t={t} csrf={c.get("csrf")} formKey={randomId()} values={values} errors={errors} />,
    );
  if (!values.to) return again(422, [{ text: "Type the phone number.", field: "to" }]);
  const bot = c.get("bot");
  const input = { to: values.to, template: { name: t.name, language: t.language, params: values.params } };
  let answer: StoredAnswer;
  try {
    answer = await withIdempotency(
      c.env.DB,
      { botId: bot.id, key: formKeyOf(form.form_key), route: "POST /portal/send/individual" },
      input,
      () => sendIndividual(c.env, bot, { ...input, route: "auto" }),
    );
  } catch (err) {
    if (!(err instanceof AppError) || (err.status >= 500 && err.status !== 503)) throw err;
    return again(err.status, [
      { text: problemText(err), field: err.code === "invalid_phone" ? "to" : undefined },
    ]);
  }
  if (answer.status >= 400) {
    const p = answerProblem(answer);
    return again(p.status, [{ text: p.text }]);
  }
  const campaignId = (answer.body as { campaignId: string }).campaignId;
  return c.redirect(`/portal/campaigns/${campaignId}?sent=1`, 303);
});

portalRoutes.post("/send/bulk", async (c) => {
  const upload = await readBulkUpload(c.req.raw.body, c.req.header("content-type"), (token) =>
    checkToken(c, token),
  );
  try {
    const { fields, file } = upload;
    const picked = await formTemplate(c, fields.template, "bulk");
    if (!picked.t) return picked.response;
    const t = picked.t;
    const name = (fields.name ?? "").trim();
    const again = (status: number, errors: FormError[], invalidRows?: BulkAnswer["invalidRows"]) =>
      page(
        c,
        { title: "Send active message", nav: "send", status },
        <BulkForm
          t={t}
          csrf={c.get("csrf")}
          formKey={randomId()}
          name={name}
          errors={errors}
          invalidRows={invalidRows}
        />,
      );
    const problems: FormError[] = [];
    if (!name) problems.push({ text: "Give the campaign a name.", field: "name" });
    if (name.length > 200) problems.push({ text: "The name is longer than 200 characters.", field: "name" });
    if (!file?.filename) problems.push({ text: "Choose a CSV file.", field: "file" });
    if (problems.length > 0 || !file) return again(422, problems);

    const bot = c.get("bot");
    const req = { name, template: { name: t.name, language: t.language }, route: "auto" as const };
    const input = { ...req, file: file.filename, contentLength: c.req.header("content-length") ?? null };
    let answer: StoredAnswer;
    try {
      answer = await withIdempotency(
        c.env.DB,
        { botId: bot.id, key: formKeyOf(fields.form_key), route: "POST /portal/send/bulk" },
        input,
        () =>
          createCampaign(c.env, bot, req, (opts) =>
            csvAudience(file.body, { ...opts, maxBytes: CSV_BODY_LIMIT }),
          ),
      );
    } catch (err) {
      if (!(err instanceof AppError) || (err.status >= 500 && err.status !== 503)) throw err;
      const rows = err.extra?.invalidRows as BulkAnswer["invalidRows"] | undefined;
      return again(err.status, [{ text: problemText(err), field: "file" }], rows);
    }
    if (answer.status >= 400) {
      const p = answerProblem(answer);
      return again(
        p.status,
        [{ text: p.text, field: "file" }],
        p.body.invalidRows as BulkAnswer["invalidRows"],
      );
    }
    return page(c, { title: "Campaign started", nav: "send" }, <BulkResult a={answer.body as BulkAnswer} />);
  } finally {
    upload.finish().catch(() => {});
  }
});

// ------------------------------------------------------------------------------- MM Lite

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

portalRoutes.get("/mm-lite", async (c) => {
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

const STEP_KEYS = new Set<StepKey>([
  "permission",
  "business",
  "numbers",
  "ad-accounts",
  "review",
  "migration",
  "confirm",
]);

portalRoutes.get("/mm-lite/connect", async (c) => {
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

portalRoutes.post("/mm-lite/connect", async (c) => {
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
  if (one("accept") !== "yes") return show("confirm", 422, "Confirm that you have reviewed the information.");
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
