import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { csvAudience, jsonAudience } from "../campaigns/audience";
import { type AudienceSource, type CampaignRequest, createCampaign } from "../campaigns/create";
import { campaignDetail, cancelCampaign, findCampaign, listCampaigns } from "../campaigns/queries";
import { REPORT_HEADER } from "../campaigns/report";
import { reportStream } from "../campaigns/report-stream";
import { readUpTo } from "../lib/bytes";
import { AppError, errors } from "../lib/errors";
import { botAuth } from "./auth";
import {
  CampaignAcceptedSchema,
  CampaignListSchema,
  CampaignSchema,
  CreateCampaignJsonSchema,
  CsvCampaignQuery,
} from "./campaign-schemas";
import { type AppEnv, newRouter } from "./context";
import { withIdempotency } from "./idempotency";
import { boundaryOf, multipartParts } from "./multipart/stream";
import { parseJsonBody, validate } from "./parse";
import { pickProblems, problemResponses } from "./problem";
import { answerJson, IdempotencyHeader } from "./shared";

export const CSV_BODY_LIMIT = 100 * 1024 * 1024;

export const campaignRoutes = newRouter();
campaignRoutes.use("*", botAuth);

const security = [{ botKey: [] }];
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });

/** Which of the three forms of api.md the request uses, and its audience as a stream of chunks. */
async function readCampaignRequest(
  c: Context<AppEnv>,
): Promise<{ req: CampaignRequest; input: unknown; audience: AudienceSource }> {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "text/csv" || type === "application/csv") {
    const q = validate(CsvCampaignQuery, c.req.query());
    const body = c.req.raw.body;
    if (!body) throw errors.invalidRequest([{ path: "", message: "The CSV body is empty" }]);
    return {
      req: { name: q.name, template: { name: q.template, language: q.language }, route: q.route },
      // A streamed body has no JSON value; the idempotency fingerprint is the query plus the length.
      input: { ...q, contentLength: c.req.header("content-length") ?? null },
      audience: (opts) => csvAudience(body, { ...opts, maxBytes: CSV_BODY_LIMIT }),
    };
  }
  if (type === "multipart/form-data") return readMultipart(c);
  const json = validate(CreateCampaignJsonSchema, await parseJsonBody(c));
  return {
    req: { name: json.name, template: json.template, route: json.route },
    input: json,
    audience: (opts) => jsonAudience(json.audience, opts),
  };
}

/** A file part that came before the fields is held in memory up to this size (then 413). */
const BUFFERED_FILE_LIMIT = 16 * 1024 * 1024;

/**
 * multipart/form-data: fields `name`, `template`, `language` (and `route`), here or in the query
 * string, and the CSV in `file`. When the fields come first (as browsers send a form in document
 * order, and as the portal does) the file is streamed; a file sent before them is held in memory,
 * up to BUFFERED_FILE_LIMIT.
 */
async function readMultipart(c: Context<AppEnv>) {
  const boundary = boundaryOf(c.req.header("content-type"));
  const body = c.req.raw.body;
  if (!boundary || !body)
    throw errors.invalidRequest([{ path: "", message: "A multipart body with a boundary is required" }]);
  const fields: Record<string, string | undefined> = { ...c.req.query() };
  let buffered: Uint8Array | null = null;
  let filename = "";
  const settle = () => validate(CsvCampaignQuery, fields);
  for await (const part of multipartParts(body, boundary)) {
    if (part.name === "file") {
      filename = part.filename ?? "";
      const known = CsvCampaignQuery.safeParse(fields);
      if (known.success) {
        const q = known.data;
        return {
          req: { name: q.name, template: { name: q.template, language: q.language }, route: q.route },
          input: { ...q, file: filename, contentLength: c.req.header("content-length") ?? null },
          audience: ((opts) =>
            csvAudience(part.body, { ...opts, maxBytes: CSV_BODY_LIMIT })) as AudienceSource,
        };
      }
      buffered = await readAtMost(part.body, BUFFERED_FILE_LIMIT);
    } else if (part.name) {
      fields[part.name] = await part.text();
    }
  }
  const q = settle();
  if (!buffered) throw errors.invalidRequest([{ path: "file", message: "A CSV file is required" }]);
  const bytes = buffered;
  return {
    req: { name: q.name, template: { name: q.template, language: q.language }, route: q.route },
    input: { ...q, file: filename, size: bytes.length },
    audience: ((opts) =>
      csvAudience(new Blob([bytes]).stream(), { ...opts, maxBytes: CSV_BODY_LIMIT })) as AudienceSource,
  };
}

async function readAtMost(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const bytes = await readUpTo(stream, limit);
  if (bytes) return bytes;
  throw new AppError(413, "payload_too_large", "Payload too large", {
    detail: `A file sent before the name/template/language fields is limited to ${limit} bytes; send the fields first (or in the query string) to upload up to ${CSV_BODY_LIMIT} bytes`,
  });
}

// POST /v1/campaigns takes JSON, text/csv or multipart: it is parsed by hand (zod underneath) and
// documented by registering the operation, since one validator cannot serve three media types.
campaignRoutes.post("/", async (c) => {
  const bot = c.get("bot");
  const { req, input, audience } = await readCampaignRequest(c);
  const answer = await withIdempotency(
    c.env.DB,
    { botId: bot.id, key: c.req.header("idempotency-key"), route: "POST /v1/campaigns" },
    input,
    () => createCampaign(c.env, bot, req, audience),
  );
  return answerJson(answer);
});

campaignRoutes.openAPIRegistry.registerPath({
  method: "post",
  path: "/",
  tags: ["Campaigns"],
  summary: "Start a campaign from a JSON audience, a CSV body, or a multipart CSV upload",
  security,
  request: {
    headers: IdempotencyHeader,
    query: CsvCampaignQuery.partial(),
    body: {
      required: true,
      content: {
        "application/json": { schema: CreateCampaignJsonSchema },
        "text/csv": {
          schema: z
            .string()
            .openapi({ description: "Header row with a phone column; other columns are parameters" }),
        },
        "multipart/form-data": {
          schema: z.object({
            file: z.string().openapi({ format: "binary" }),
            name: z.string(),
            template: z.string(),
            language: z.string(),
          }),
        },
      },
    },
  },
  responses: {
    202: {
      description: "Accepted and sending",
      content: { "application/json": { schema: CampaignAcceptedSchema } },
    },
    ...pickProblems(400, 401, 409, 413, 422, 503),
  },
});

campaignRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Campaigns"],
    summary: "The bot's campaigns, newest first",
    security,
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(64).optional(),
      }),
    },
    responses: {
      200: { description: "A page", content: { "application/json": { schema: CampaignListSchema } } },
      ...pickProblems(400, 401),
    },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    return c.json(await listCampaigns(c.env, c.get("bot").id, limit, cursor), 200);
  },
);

campaignRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["Campaigns"],
    summary: "A campaign with its performance details",
    security,
    request: { params: IdParam },
    responses: {
      200: { description: "The campaign", content: { "application/json": { schema: CampaignSchema } } },
      ...pickProblems(401, 404),
    },
  }),
  async (c) => c.json(await campaignDetail(c.env, c.get("bot").id, c.req.valid("param").id), 200),
);

campaignRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/cancel",
    tags: ["Campaigns"],
    summary: "Cancel a campaign: messages still queued are not sent",
    security,
    request: { params: IdParam },
    responses: {
      200: {
        description: "The cancelled campaign",
        content: { "application/json": { schema: CampaignSchema } },
      },
      401: problemResponses[401],
      404: problemResponses[404],
      409: { ...problemResponses[409], description: "Already completed (`campaign_not_cancellable`)" },
    },
  }),
  async (c) => c.json(await cancelCampaign(c.env, c.get("bot").id, c.req.valid("param").id), 200),
);

campaignRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/report.csv",
    tags: ["Campaigns"],
    summary: "Per-recipient report (CSV, streamed; formula cells neutralised)",
    security,
    request: { params: IdParam },
    responses: {
      200: {
        description: `One row per recipient, invalid ones included. Header: ${REPORT_HEADER.join(",")}`,
        content: { "text/csv": { schema: z.string() } },
      },
      ...pickProblems(401, 404),
    },
  }),
  async (c) => {
    const campaign = await findCampaign(c.env, c.get("bot").id, c.req.valid("param").id);
    return new Response(reportStream(c.env.DB, campaign.id), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="campaign-${campaign.id}.csv"`,
        "Cache-Control": "no-store",
      },
    }) as never;
  },
);
