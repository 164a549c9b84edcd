/** "Send active message": one number or a CSV upload, with an approved template the user picks. */
import type { Hono } from "hono";
import { csvAudience } from "../../campaigns/audience";
import { createCampaign } from "../../campaigns/create";
import { sendIndividual } from "../../campaigns/individual";
import { CSV_BODY_LIMIT } from "../../http/campaigns";
import { type StoredAnswer, withIdempotency } from "../../http/idempotency";
import { AppError } from "../../lib/errors";
import { checkToken, type PortalContext, type PortalEnv } from "../guard";
import {
  type Audience,
  type BulkAnswer,
  BulkForm,
  BulkResult,
  ChooseTemplate,
  type FormError,
  IndividualForm,
} from "../pages/send";
import { answerProblem, formKeyOf, page, problemText, str } from "../render";
import { randomId } from "../session";
import {
  approvedTemplates,
  findTemplate,
  type PickerTemplate,
  parseTemplateRef,
  sampleCsv,
} from "../templates";
import { readBulkUpload } from "../upload";
/** The one route that takes a multipart body (its CSRF token is checked as the body is read). */
export const BULK_PATH = "/portal/send/bulk";

async function templatesOrError(c: PortalContext): Promise<{ list: PickerTemplate[]; error?: FormError }> {
  try {
    return { list: await approvedTemplates(c.env, c.get("bot").wabaId) };
  } catch (err) {
    if (err instanceof AppError) return { list: [], error: { text: problemText(err) } };
    throw err;
  }
}

const audienceOf = (v: unknown): Audience => (v === "bulk" ? "bulk" : "individual");

export function sendHandlers(app: Hono<PortalEnv>): void {
  app.get("/send", async (c) => {
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

  app.get("/send/sample.csv", async (c) => {
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

  app.post("/send/individual", async (c) => {
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

  app.post("/send/bulk", async (c) => {
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
      if (name.length > 200)
        problems.push({ text: "The name is longer than 200 characters.", field: "name" });
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
      return page(
        c,
        { title: "Campaign started", nav: "send" },
        <BulkResult a={answer.body as BulkAnswer} />,
      );
    } finally {
      upload.finish().catch(() => {});
    }
  });
}
