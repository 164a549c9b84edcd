import { createRoute, z } from "@hono/zod-openapi";
import { connectMmLite } from "../connections/connect";
import { mmLiteStatus } from "../connections/status";
import { botAuth } from "./auth";
import { newRouter } from "./context";
import { ProblemSchema, pickProblems } from "./problem";

// Graph ids (as in /admin/bots): letters, digits, `_` and `-` (ad accounts are `act_<digits>`).
const GraphId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a Graph id (letters, digits, _ or -)");
const IdList = (what: string) =>
  z
    .array(GraphId)
    .min(1, `Give at least one ${what}`)
    .max(100)
    .openapi({ description: `At least one ${what}` });

const ConnectSchema = z
  .strictObject({
    businessId: GraphId.openapi({ description: "The Business Manager that owns the WABA" }),
    wabaIds: IdList("WABA id").openapi({ description: "The bot's own WABA" }),
    phoneNumberIds: IdList("phone number id").openapi({ description: "The bot's own phone number" }),
    adAccountIds: IdList("ad account id").openapi({ description: "Ad accounts to connect (at least one)" }),
    acceptMigration: z
      .boolean()
      .default(false)
      .openapi({
        description:
          "Accept migrating an On-Behalf-Of WABA to a shared one (the business gains full access to " +
          "the WABA, including deleting it). Required when the WABA is OBO.",
      }),
  })
  .openapi("MmLiteConnect", {
    example: {
      businessId: "5060",
      wabaIds: ["102290129340398"],
      phoneNumberIds: ["106540352242922"],
      adAccountIds: ["act_1"],
      acceptMigration: false,
    },
  });

const ConnectionSchema = z
  .object({
    id: z.string(),
    status: z.enum(["syncing", "connected"]).openapi({
      description: "`syncing` until `syncUntil` (marketing goes through the Cloud API), then `connected`",
    }),
    syncUntil: z.string().openapi({ description: "End of the sync window (ISO-8601 UTC)" }),
    wabas: z.array(z.object({ id: z.string(), type: z.enum(["shared", "obo"]), migrated: z.boolean() })),
    businessId: z.string(),
    phoneNumberIds: z.array(z.string()),
    adAccountIds: z.array(z.string()),
    createdAt: z.string(),
  })
  .openapi("MmLiteConnection", {
    example: {
      id: "mmc_0mhx3k2a0abcdefghijklmnop",
      status: "syncing",
      syncUntil: "2026-11-30T14:00:00.000Z",
      wabas: [{ id: "102290129340398", type: "shared", migrated: false }],
      businessId: "5060",
      phoneNumberIds: ["106540352242922"],
      adAccountIds: ["act_1"],
      createdAt: "2026-11-29T14:00:00.000Z",
    },
  });

const StatusSchema = z
  .object({
    wabaId: z.string(),
    state: z.enum(["active", "syncing", "inactive"]).openapi({
      description:
        "`syncing` while a connection's sync window is open; `active` when MM Lite is activated for the " +
        "WABA; otherwise `inactive`",
    }),
    onboardingStatus: z.string().nullable().openapi({
      description:
        "Meta's onboarding status at the last query (`ONBOARDED`, `ELIGIBLE`, …); null if never asked",
    }),
    activatedAt: z.string().nullable(),
    syncUntil: z
      .string()
      .nullable()
      .openapi({ description: "End of the connection's sync window, if connected" }),
    checkedAt: z.string().nullable().openapi({ description: "When Meta was last asked" }),
    botRestricted: z.boolean().openapi({ description: "The bot's manual restriction (forbids MM Lite)" }),
  })
  .openapi("MmLiteStatus", {
    example: {
      wabaId: "102290129340398",
      state: "active",
      onboardingStatus: "ONBOARDED",
      activatedAt: "2026-11-30T14:05:12.000Z",
      syncUntil: "2026-11-30T14:00:00.000Z",
      checkedAt: "2026-11-30T14:05:12.000Z",
      botRestricted: false,
    },
  });

const ConnectionProblemSchema = ProblemSchema.extend({
  wabaIds: z.array(z.string()).optional().openapi({ description: "The WABAs concerned" }),
  phoneNumberIds: z.array(z.string()).optional().openapi({ description: "The phone numbers concerned" }),
}).openapi("ConnectionProblem");

const problem = (description: string, example: Record<string, unknown>) => ({
  description,
  content: { "application/problem+json": { schema: ConnectionProblemSchema, example } },
});

export const connectionRoutes = newRouter();
connectionRoutes.use("*", botAuth);

const security = [{ botKey: [] }];

connectionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/connections",
    tags: ["MM Lite"],
    summary: "Connect MM Lite for the bot's WABA, number and ad accounts; opens the sync window",
    description:
      "The bot's own WABA and phone number only (403 `forbidden_waba`, checked first). An On-Behalf-Of WABA " +
      'needs `"acceptMigration": true` (409 `obo_migration_required` otherwise) and then becomes `shared` ' +
      "with `migrated: true`. For `MM_LITE_SYNC_HOURS` (default 24) marketing on `auto` goes through the Cloud " +
      "API (`mm_lite_sync_pending`); the first send after that asks Meta. Connecting an already connected " +
      "WABA answers 200 with the existing connection (its window unchanged).",
    security,
    request: { body: { required: true, content: { "application/json": { schema: ConnectSchema } } } },
    responses: {
      201: {
        description: "Connected; the sync window is open",
        content: { "application/json": { schema: ConnectionSchema } },
      },
      200: {
        description: "Already connected: the existing connection",
        content: { "application/json": { schema: ConnectionSchema } },
      },
      ...pickProblems(400, 401, 413),
      403: problem("Not the bot's WABA, phone number or business (`forbidden_waba`)", {
        type: "about:blank",
        title: "WABA or phone number not allowed",
        status: 403,
        code: "forbidden_waba",
        detail: "A bot can connect only its own WABA and phone number",
        wabaIds: ["999999999999999"],
      }),
      409: problem("On-Behalf-Of WABA without `acceptMigration: true` (`obo_migration_required`)", {
        type: "about:blank",
        title: "On-Behalf-Of WABA must be migrated",
        status: 409,
        code: "obo_migration_required",
        detail: 'MM Lite needs shared WABAs. … send "acceptMigration": true to accept the migration.',
        wabaIds: ["102290129340398"],
      }),
    },
  }),
  async (c) => {
    const { created, connection } = await connectMmLite(c.env, c.get("bot"), c.req.valid("json"));
    return created ? c.json(connection, 201) : c.json(connection, 200);
  },
);

connectionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/status",
    tags: ["MM Lite"],
    summary: "MM Lite state of the bot's WABA: syncing, active or inactive",
    description:
      "While a sync window is open: `syncing`, from the record. Otherwise the status a send would use: the " +
      "edge cache, else Meta (asked through the WABA's Durable Object, one query at a time), registered as " +
      "a send would register it.",
    security,
    responses: {
      200: { description: "The state", content: { "application/json": { schema: StatusSchema } } },
      ...pickProblems(401),
    },
  }),
  async (c) => c.json(await mmLiteStatus(c.env, c.get("bot")), 200),
);
