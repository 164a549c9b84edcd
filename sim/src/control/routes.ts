// The control API under /_sim/ (no Graph auth): set up WABAs, numbers and templates, inject faults,
// read stats and accepted messages, and emit webhooks. JSON in, JSON out; bad bodies get 400 + issues.
import { Hono } from "hono";
import type { z } from "zod";
import { registryStub } from "../state/stubs";
import { emitEvent, emitStatuses } from "./emit";
import {
  autoWebhooksInput,
  emitInput,
  eventInput,
  faultsInput,
  numberPatch,
  seedInput,
  templatePatch,
  toAutoWebhookConfig,
  wabaInput,
} from "./schemas";

export const control = new Hono<{ Bindings: SimEnv }>();

/** Parses the JSON body with `schema`; returns the data or a ready 400 response. */
async function body<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S> | Response> {
  const raw = await req.json().catch(() => undefined);
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  return Response.json({ error: "invalid body", issues: parsed.error.issues }, { status: 400 });
}

const notFound = (what: string) => Response.json({ error: `${what} not found` }, { status: 404 });

control.post("/reset", async (c) => {
  await registryStub(c.env).registryReset();
  return c.json({ ok: true });
});

control.post("/seed", async (c) => {
  const input = await body(c.req.raw, seedInput);
  if (input instanceof Response) return input;
  return c.json({ seed: input.name, wabas: await registryStub(c.env).registrySeed(input.name) });
});

control.put("/wabas/:wabaId", async (c) => {
  const input = await body(c.req.raw, wabaInput);
  if (input instanceof Response) return input;
  return c.json(await registryStub(c.env).registryUpsertWaba(c.req.param("wabaId"), input));
});

control.get("/wabas/:wabaId", async (c) => {
  const view = await registryStub(c.env).registryGetWaba(c.req.param("wabaId"));
  return view ? c.json(view) : notFound("WABA");
});

control.put("/wabas/:wabaId/templates/:name/:language", async (c) => {
  const patch = await body(c.req.raw, templatePatch);
  if (patch instanceof Response) return patch;
  const { wabaId, name, language } = c.req.param();
  const t = await registryStub(c.env).registryPutTemplate(wabaId, name, language, patch);
  return t ? c.json(t) : notFound("WABA, or template (creating one needs status and category),");
});

control.put("/numbers/:id", async (c) => {
  const patch = await body(c.req.raw, numberPatch);
  if (patch instanceof Response) return patch;
  const n = await registryStub(c.env).registrySetNumber(c.req.param("id"), patch);
  return n ? c.json(n) : notFound("phone number");
});

control.put("/faults", async (c) => {
  const input = await body(c.req.raw, faultsInput);
  if (input instanceof Response) return input;
  return c.json(await registryStub(c.env).registrySetFaults(input));
});
control.get("/faults", async (c) => c.json(await registryStub(c.env).registryGetFaults()));
control.delete("/faults", async (c) =>
  c.json(await registryStub(c.env).registrySetFaults(faultsInput.parse({}))),
);

control.put("/auto-webhooks", async (c) => {
  const input = await body(c.req.raw, autoWebhooksInput);
  if (input instanceof Response) return input;
  return c.json(await registryStub(c.env).registrySetAutoWebhooks(toAutoWebhookConfig(input)));
});
control.get("/auto-webhooks", async (c) => c.json(await registryStub(c.env).registryGetAutoWebhooks()));

control.get("/stats", async (c) => c.json(await registryStub(c.env).registryStats()));

control.get("/messages", async (c) => {
  const sinceRaw = c.req.query("since");
  const since = sinceRaw === undefined ? 0 : /^\d+$/.test(sinceRaw) ? Number(sinceRaw) : Date.parse(sinceRaw);
  const limit = Math.min(Number(c.req.query("limit") ?? 1000), 100_000);
  if (Number.isNaN(since) || !Number.isInteger(limit) || limit < 1)
    return c.json({ error: "since must be epoch ms or ISO 8601; limit a positive integer" }, 400);
  const messages = await registryStub(c.env).registryMessages(since, limit, c.req.query("phoneNumberId"));
  return c.json({ messages, count: messages.length });
});

control.post("/webhooks/emit", async (c) => {
  const input = await body(c.req.raw, emitInput);
  if (input instanceof Response) return input;
  return c.json(await emitStatuses(c.env, input));
});

control.post("/webhooks/emit-event", async (c) => {
  const input = await body(c.req.raw, eventInput);
  if (input instanceof Response) return input;
  const r = await emitEvent(c.env, input);
  return "error" in r ? c.json(r, 404) : c.json(r);
});

control.all("*", (c) => c.json({ error: `no control route ${c.req.method} ${c.req.path}` }, 404));
