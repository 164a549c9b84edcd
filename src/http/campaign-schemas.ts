import { z } from "@hono/zod-openapi";
import { RouteEnum, RouteReasonEnum } from "./shared";

const name = z.string().trim().min(1).max(200);
const templateName = z.string().trim().min(1).max(512);
const language = z.string().trim().min(2).max(15);
const route = z.enum(["auto", "cloud_api"]).default("auto");

export const CreateCampaignJsonSchema = z
  .strictObject({
    name,
    template: z.strictObject({ name: templateName, language }),
    audience: z
      .array(
        z.strictObject({
          to: z.string().max(64),
          params: z.array(z.string().max(32_768)).max(100).optional(),
        }),
      )
      .max(200_000),
    route,
  })
  .openapi("CreateCampaign", {
    example: {
      name: "Black Friday",
      template: { name: "fall_sale", language: "pt_BR" },
      audience: [{ to: "+5511999990001", params: ["Ana", "15/08"] }],
      route: "auto",
    },
  });

/** The query of a `text/csv` campaign, and the fields of a multipart upload. */
export const CsvCampaignQuery = z.object({ name, template: templateName, language, route });

const counts = z.object({
  queued: z.number().int(),
  accepted: z.number().int(),
  sent: z.number().int(),
  delivered: z.number().int(),
  read: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  invalid: z.number().int(),
});

export const CampaignListItemSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(["individual", "batch"]),
    status: z.enum(["sending", "completed", "cancelled"]),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    template: z.object({ name: z.string(), language: z.string(), category: z.string() }),
    route: RouteEnum,
    routeReason: RouteReasonEnum,
    total: z.number().int(),
    invalid: z.number().int(),
    duplicates: z.number().int(),
    counts,
    funnel: z.object({
      accepted: z.number().int(),
      sent: z.number().int(),
      delivered: z.number().int(),
      read: z.number().int(),
    }),
    rates: z.object({ delivery: z.number(), read: z.number(), failure: z.number() }),
    confirmedRoutes: z.object({ mm_lite: z.number().int(), cloud_api: z.number().int() }),
  })
  .openapi("CampaignListItem");

export const CampaignSchema = CampaignListItemSchema.extend({
  errors: z.array(
    z.object({ code: z.number().int().nullable(), title: z.string().nullable(), count: z.number().int() }),
  ),
  timeline: z.array(
    z.object({
      at: z.string(),
      accepted: z.number().int(),
      sent: z.number().int(),
      delivered: z.number().int(),
      read: z.number().int(),
      failed: z.number().int(),
    }),
  ),
}).openapi("Campaign");

export const CampaignListSchema = z
  .object({ items: z.array(CampaignListItemSchema), nextCursor: z.string().nullable() })
  .openapi("CampaignList");

export const CampaignAcceptedSchema = CampaignListItemSchema.extend({
  invalidRows: z.array(z.object({ row: z.number().int(), value: z.string(), reason: z.string() })),
}).openapi("CampaignAccepted");
