import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { type BotRow, bots, wabas } from "../db/schema";
import { errors } from "../lib/errors";
import { newId } from "../lib/ids";
import { isoNow } from "../lib/time";
import { adminAuth, generateApiKey } from "./auth";
import { newRouter } from "./context";
import { pickProblems } from "./problem";

// Graph ids are numeric at Meta; letters, `_` and `-` are accepted for fakes and tests, never `/` or `?`.
const GraphId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a Graph id (letters, digits, _ or -)");

const CreateBotSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    wabaId: GraphId,
    phoneNumberId: GraphId,
    businessId: GraphId,
    wabaType: z.enum(["shared", "obo"]).default("shared"),
    throughputMps: z.number().int().min(1).max(1000).default(80),
    mmLiteRestricted: z.boolean().default(false),
  })
  .openapi("CreateBot", {
    example: {
      name: "Store",
      wabaId: "102290129340398",
      phoneNumberId: "106540352242922",
      businessId: "5060",
      wabaType: "shared",
      throughputMps: 80,
      mmLiteRestricted: false,
    },
  });

const PatchBotSchema = z
  .strictObject({
    mmLiteRestricted: z.boolean().optional(),
    throughputMps: z.number().int().min(1).max(1000).optional(),
  })
  .refine((v) => v.mmLiteRestricted !== undefined || v.throughputMps !== undefined, {
    message: "Give mmLiteRestricted, throughputMps or both",
  })
  .openapi("PatchBot", { example: { mmLiteRestricted: true, throughputMps: 1000 } });

const BotSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    wabaId: z.string(),
    phoneNumberId: z.string(),
    businessId: z.string(),
    wabaType: z.enum(["shared", "obo"]),
    throughputMps: z.number().int(),
    mmLiteRestricted: z.boolean(),
    createdAt: z.string(),
  })
  .openapi("Bot");

const CreatedBotSchema = BotSchema.extend({
  apiKey: z.string().openapi({ description: "Shown in this response only" }),
}).openapi("CreatedBot");

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const security = [{ adminBearer: [] }];

async function botView(env: Env, bot: BotRow) {
  const waba = await drizzle(env.DB)
    .select({ type: wabas.type })
    .from(wabas)
    .where(eq(wabas.id, bot.wabaId))
    .get();
  return {
    id: bot.id,
    name: bot.name,
    wabaId: bot.wabaId,
    phoneNumberId: bot.phoneNumberId,
    businessId: bot.businessId,
    wabaType: waba?.type ?? "shared",
    throughputMps: bot.throughputMps,
    mmLiteRestricted: bot.mmLiteRestricted,
    createdAt: bot.createdAt,
  };
}

async function findBot(env: Env, id: string): Promise<BotRow> {
  const bot = await drizzle(env.DB).select().from(bots).where(eq(bots.id, id)).get();
  if (!bot) throw errors.notFound("Bot");
  return bot;
}

export const adminRoutes = newRouter();
adminRoutes.use("*", adminAuth);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/bots",
    tags: ["Operator"],
    summary: "Register a bot (its WABA and phone number); the API key is shown once",
    security,
    request: { body: { required: true, content: { "application/json": { schema: CreateBotSchema } } } },
    responses: {
      201: { description: "Created", content: { "application/json": { schema: CreatedBotSchema } } },
      ...pickProblems(400, 401, 413),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const now = isoNow();
    const key = await generateApiKey();
    const row: BotRow = {
      id: newId("bot"),
      name: input.name,
      keyId: key.keyId,
      keyHash: key.keyHash,
      wabaId: input.wabaId,
      phoneNumberId: input.phoneNumberId,
      businessId: input.businessId,
      throughputMps: input.throughputMps,
      mmLiteRestricted: input.mmLiteRestricted,
      createdAt: now,
      updatedAt: now,
    };
    const db = drizzle(c.env.DB);
    // One batch: the bot never exists without its WABA record. A WABA shared by several bots keeps
    // the type it was registered with (the connection flow is what changes it).
    await db.batch([
      db
        .insert(wabas)
        .values({
          id: input.wabaId,
          businessId: input.businessId,
          type: input.wabaType,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing(),
      db.insert(bots).values(row),
    ]);
    return c.json({ ...(await botView(c.env, row)), apiKey: key.apiKey }, 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/bots/{id}",
    tags: ["Operator"],
    summary: "Read a bot (without its API key)",
    security,
    request: { params: IdParam },
    responses: {
      200: { description: "The bot", content: { "application/json": { schema: BotSchema } } },
      ...pickProblems(401, 404),
    },
  }),
  async (c) => c.json(await botView(c.env, await findBot(c.env, c.req.valid("param").id)), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/bots/{id}",
    tags: ["Operator"],
    summary: "Set the manual MM Lite restriction and/or the phone number's throughput",
    security,
    request: {
      params: IdParam,
      body: { required: true, content: { "application/json": { schema: PatchBotSchema } } },
    },
    responses: {
      200: { description: "The bot", content: { "application/json": { schema: BotSchema } } },
      ...pickProblems(400, 401, 404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const bot = await findBot(c.env, id);
    const updated: BotRow = {
      ...bot,
      mmLiteRestricted: patch.mmLiteRestricted ?? bot.mmLiteRestricted,
      throughputMps: patch.throughputMps ?? bot.throughputMps,
      updatedAt: isoNow(),
    };
    await drizzle(c.env.DB)
      .update(bots)
      .set({
        mmLiteRestricted: updated.mmLiteRestricted,
        throughputMps: updated.throughputMps,
        updatedAt: updated.updatedAt,
      })
      .where(eq(bots.id, id));
    return c.json(await botView(c.env, updated), 200);
  },
);
