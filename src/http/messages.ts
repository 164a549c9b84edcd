import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { sendIndividual } from "../campaigns/individual";
import { messageView } from "../campaigns/views";
import { db } from "../db/client";
import { messages } from "../db/schema";
import { errors } from "../lib/errors";
import { botAuth } from "./auth";
import { newRouter } from "./context";
import { withIdempotency } from "./idempotency";
import { pickProblems } from "./problem";
import { answerJson, IdempotencyHeader, RouteEnum, RouteReasonEnum } from "./shared";

const TemplateRef = z.strictObject({
  name: z.string().trim().min(1).max(512),
  language: z.string().trim().min(2).max(15),
  params: z.array(z.string().max(32_768)).max(100).optional(),
  components: z
    .array(z.looseObject({ type: z.string() }))
    .max(20)
    .optional()
    .openapi({ description: "Meta-format components (headers, buttons); replaces `params`" }),
});

const SendMessageSchema = z
  .strictObject({
    to: z.string().trim().min(1).max(64),
    template: TemplateRef.refine((t) => !(t.params && t.components), {
      message: "Give either params or components, not both",
    }),
    route: z.enum(["auto", "cloud_api"]).default("auto"),
  })
  .openapi("SendMessage", {
    example: {
      to: "+55 11 99999-0001",
      template: { name: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] },
      route: "auto",
    },
  });

const MessageAcceptedSchema = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    to: z.string().openapi({ example: "+5511999990001" }),
    status: z.literal("queued"),
    route: RouteEnum,
    routeReason: RouteReasonEnum,
  })
  .openapi("MessageAccepted");

const MessageSchema = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    to: z.string(),
    status: z.enum(["queued", "accepted", "sent", "delivered", "read", "failed", "cancelled", "invalid"]),
    route: RouteEnum,
    routeReason: RouteReasonEnum,
    confirmedRoute: RouteEnum.nullable(),
    wamid: z.string().nullable(),
    error: z.object({ code: z.number().int().nullable(), title: z.string().nullable() }).nullable(),
    acceptedAt: z.string().nullable(),
    sentAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    readAt: z.string().nullable(),
    failedAt: z.string().nullable(),
  })
  .openapi("Message");

export const messageRoutes = newRouter();
messageRoutes.use("*", botAuth);

messageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["Messages"],
    summary: "Send one active (template) message; the route is decided now, the send is queued",
    security: [{ botKey: [] }],
    request: {
      headers: IdempotencyHeader,
      body: { required: true, content: { "application/json": { schema: SendMessageSchema } } },
    },
    responses: {
      202: { description: "Queued", content: { "application/json": { schema: MessageAcceptedSchema } } },
      ...pickProblems(400, 401, 409, 413, 422, 503),
    },
  }),
  async (c) => {
    const bot = c.get("bot");
    const input = c.req.valid("json");
    const answer = await withIdempotency(
      c.env.DB,
      { botId: bot.id, key: c.req.header("idempotency-key"), route: "POST /v1/messages" },
      input,
      () => sendIndividual(c.env, bot, input),
    );
    return answerJson(answer) as never;
  },
);

messageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["Messages"],
    summary: "A message's route, status, times and error",
    security: [{ botKey: [] }],
    request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
    responses: {
      200: { description: "The message", content: { "application/json": { schema: MessageSchema } } },
      ...pickProblems(401, 404),
    },
  }),
  async (c) => {
    const bot = c.get("bot");
    const row = await db(c.env)
      .select()
      .from(messages)
      .where(and(eq(messages.id, c.req.valid("param").id), eq(messages.botId, bot.id)))
      .get();
    // Another bot's message is a 404 too: never confirm that it exists.
    if (!row) throw errors.notFound("Message");
    return c.json(messageView(row), 200);
  },
);
