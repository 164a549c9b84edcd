import { z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { MEDIA_TYPES, POSTMASTER, readCommand } from "../commands/envelope";
import { executeCommand } from "../commands/execute";
import { errors } from "../lib/errors";
import { botAuth } from "./auth";
import { newRouter } from "./context";
import { parseJsonBody } from "./parse";
import { pickProblems } from "./problem";

/**
 * `POST /commands`: the Active Campaign API command envelope, a thin adapter over src/commands/.
 * A body that is not a command is a 400 problem; every command, failing or not, is answered 200
 * with an envelope (`status: "success" | "failure"`).
 */
const COMMAND_BODY_LIMIT = 10 * 1024 * 1024;

export const commandRoutes = newRouter();
commandRoutes.use(
  "*",
  bodyLimit({
    maxSize: COMMAND_BODY_LIMIT,
    onError: () => {
      throw errors.payloadTooLarge(COMMAND_BODY_LIMIT);
    },
  }),
);
commandRoutes.use("*", botAuth);

commandRoutes.post("/", async (c) => {
  const cmd = readCommand(await parseJsonBody(c));
  return c.json(await executeCommand(c.env, c.get("bot"), cmd), 200);
});

// Documentation only: the body is parsed by hand, since a non-command must be a 400 while a bad
// command is a 200 failure — one validator cannot give both.

const FullCampaignDoc = z
  .object({
    campaign: z.object({
      name: z.string(),
      campaignType: z.string().openapi({ description: '"Batch" or "Individual" (any case)' }),
      flowId: z.string().nullable().optional(),
      stateId: z.string().nullable().optional(),
      masterState: z.string().nullable().optional(),
      channelType: z.string().nullable().optional().openapi({ description: '"WhatsApp" when given' }),
      sourceApplication: z.string().nullable().optional(),
      scheduled: z.string().nullable().optional().openapi({ description: "Not in the future" }),
    }),
    audiences: z
      .array(
        z.object({
          recipient: z.string().openapi({ description: "+E.164, digits, or <digits>@wa.gw.msging.net" }),
          messageParams: z
            .record(z.string(), z.union([z.string(), z.number()]))
            .nullable()
            .optional(),
        }),
      )
      .optional()
      .openapi({ description: "Batch" }),
    audience: z
      .object({
        recipient: z.string(),
        messageParams: z
          .record(z.string(), z.union([z.string(), z.number()]))
          .nullable()
          .optional(),
      })
      .optional()
      .openapi({ description: "Individual" }),
    message: z.object({
      messageTemplate: z.string(),
      messageTemplateLanguage: z
        .string()
        .nullable()
        .optional()
        .openapi({ description: "Left out: the template's only APPROVED language" }),
      messageParams: z
        .array(z.union([z.string(), z.number()]))
        .nullable()
        .optional()
        .openapi({ description: "Keys of each recipient's messageParams, in template parameter order" }),
      channelType: z.string().nullable().optional(),
    }),
  })
  .openapi("FullCampaignResource");

const CommandSchema = z
  .object({
    id: z.union([z.string(), z.number()]).optional().openapi({
      description:
        "Echoed in the answer; the idempotency key of a set (same id + same command → same answer)",
    }),
    to: z.string().optional().openapi({ example: POSTMASTER }),
    method: z.string().openapi({ description: "set | get (any case)" }),
    uri: z.string().openapi({
      description:
        "/campaign/full, /campaigns?$skip=&$take=, /campaigns/{id}, /campaigns/{id}/summaries, /campaigns/{id}/reports?$skip=&$take=",
    }),
    type: z.string().optional(),
    resource: FullCampaignDoc.optional(),
  })
  .openapi("Command");

const CommandAnswerSchema = z
  .object({
    id: z.union([z.string(), z.number()]),
    from: z.literal(POSTMASTER),
    to: z.string().openapi({ description: "The calling bot, <botId>@msging.net" }),
    method: z.string(),
    status: z.enum(["success", "failure"]),
    type: z.string().optional(),
    resource: z.unknown().optional(),
    reason: z
      .object({
        code: z.number().int().openapi({ description: "11 invalid resource, 67 not found, 1 anything else" }),
        description: z.string(),
      })
      .optional(),
    metadata: z.object({ "#command.uri": z.string() }),
  })
  .openapi("CommandAnswer");

const fullCampaignExample = {
  id: "3f1c9a52-0d0e-4a4b-9b51-7d3f1c2e9a10",
  to: POSTMASTER,
  method: "set",
  uri: "/campaign/full",
  type: MEDIA_TYPES.fullCampaign,
  resource: {
    campaign: { name: "bf", campaignType: "Batch", flowId: null, stateId: null, channelType: "WhatsApp" },
    audiences: [{ recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } }],
    message: {
      messageTemplate: "fall_sale",
      messageTemplateLanguage: "pt_BR",
      messageParams: ["1", "2"],
      channelType: "WhatsApp",
    },
  },
};

commandRoutes.openAPIRegistry.registerPath({
  method: "post",
  path: "/",
  tags: ["Commands"],
  summary:
    "Active Campaign API command envelope: create a campaign, list campaigns, read one, its summary or report",
  security: [{ botKey: [] }],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: CommandSchema,
          examples: {
            fullCampaign: { summary: "set /campaign/full (Batch)", value: fullCampaignExample },
            individual: {
              summary: "set /campaign/full (Individual, language inferred)",
              value: {
                ...fullCampaignExample,
                id: "c2b0f3a4-8e61-4c4e-a1b1-0f1e2d3c4b5a",
                resource: {
                  campaign: { name: "one", campaignType: "Individual", masterState: null },
                  audience: {
                    recipient: "5511999990001@wa.gw.msging.net",
                    messageParams: { "1": "Ana", "2": 15 },
                  },
                  message: { messageTemplate: "fall_sale", messageParams: ["1", "2"] },
                },
              },
            },
            list: {
              summary: "get /campaigns",
              value: { id: "1", to: POSTMASTER, method: "get", uri: "/campaigns?$skip=0&$take=20" },
            },
            report: {
              summary: "get /campaigns/{id}/reports",
              value: { id: "2", to: POSTMASTER, method: "get", uri: "/campaigns/cmp_123/reports?$take=100" },
            },
          },
        },
      },
    },
  },
  responses: {
    200: {
      description: "The answer envelope; a command that could not be carried out has status failure",
      content: {
        "application/json": {
          schema: CommandAnswerSchema,
          examples: {
            created: {
              value: {
                id: fullCampaignExample.id,
                from: POSTMASTER,
                to: "bot_123@msging.net",
                method: "set",
                status: "success",
                type: MEDIA_TYPES.campaign,
                resource: {
                  id: "cmp_123",
                  name: "bf",
                  campaignType: "Batch",
                  status: "sending",
                  isToUseLiteApi: true,
                  route: "mm_lite",
                  routeReason: "mm_lite_active",
                  total: 1,
                  invalid: 0,
                },
                metadata: { "#command.uri": "/campaign/full" },
              },
            },
            failure: {
              value: {
                id: "2",
                from: POSTMASTER,
                to: "bot_123@msging.net",
                method: "get",
                status: "failure",
                reason: { code: 67, description: "Campaign not found (not_found)" },
                metadata: { "#command.uri": "/campaigns/cmp_123/reports?$take=100" },
              },
            },
          },
        },
      },
    },
    ...pickProblems(400, 401, 413),
  },
});
