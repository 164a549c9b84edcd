// Robustness: thousands of validly signed random and mutated bodies. POST /webhooks/meta never
// answers 5xx (200 for a WhatsApp envelope, 400 otherwise), and the consumer never throws on the
// same bodies and acks every one of them (retrying cannot make a body readable).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { signBody } from "../../src/webhooks/signature";
import { setupBot } from "../helpers";
import { APP_SECRET, acceptedSend, consume, inline } from "./helpers";

const encoder = new TextEncoder();

/**
 * The Worker's fetch handler called in-process with the real bindings (the real queue included).
 * `exports.default.fetch` would do too, but in this pool it slows down with every call made in a file.
 */
async function post(body: string | Uint8Array): Promise<number> {
  const request = new Request("http://gateway.test/webhooks/meta", {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": await signBody(APP_SECRET, body) },
    body,
  });
  const ctx = createExecutionContext();
  const res = await worker.fetch!(request as never, env as never, ctx);
  await waitOnExecutionContext(ctx);
  await res.arrayBuffer();
  return res.status;
}

function samples(wabaId: string, wamid: string) {
  const envelope = (field: string, value: unknown) => ({
    object: "whatsapp_business_account",
    entry: [{ id: wabaId, time: 1750030073, changes: [{ field, value }] }],
  });
  return [
    envelope("messages", {
      messaging_product: "whatsapp",
      metadata: { display_phone_number: "15550783881", phone_number_id: "106540352242922" },
      statuses: [
        {
          id: wamid,
          status: "delivered",
          timestamp: "1750030073",
          recipient_id: "5511999990001",
          pricing: { billable: true, pricing_model: "PMP", type: "regular", category: "marketing_lite" },
        },
        {
          id: wamid,
          status: "failed",
          timestamp: "1750030080",
          recipient_id: "5511999990001",
          errors: [{ code: 131049, title: "t", message: "m", error_data: { details: "d" } }],
        },
        { id: "wamid.other", status: "read", timestamp: "1750030090", recipient_id: "5511999990002" },
      ],
    }),
    envelope("message_template_status_update", {
      event: "PAUSED",
      message_template_id: 1,
      message_template_name: "fall_sale",
      message_template_language: "pt_BR",
      reason: "NONE",
    }),
    envelope("template_category_update", {
      message_template_id: 1,
      message_template_name: "fall_sale",
      message_template_language: "pt_BR",
      previous_category: "MARKETING",
      new_category: "UTILITY",
    }),
    envelope("account_update", {
      event: "MM_LITE_TERMS_SIGNED",
      waba_info: { waba_id: wabaId, owner_business_id: "5060" },
    }),
    envelope("user_preferences", {
      messaging_product: "whatsapp",
      contacts: [{ profile: { name: "Ana" }, wa_id: "5511999990001" }],
      user_preferences: [
        {
          wa_id: "5511999990001",
          detail: "d",
          category: "marketing_messages",
          value: "stop",
          timestamp: 1750030073,
        },
      ],
    }),
  ];
}

type Path = (string | number)[];

function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) for (const [i, v] of value.entries()) paths(v, [...at, i], out);
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

const DELETE = Symbol("delete");

function mutate(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement === DELETE ? undefined : replacement;
  const [head, ...rest] = path as [string | number, ...Path];
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === DELETE) copy.splice(head as number, 1);
    else copy[head as number] = mutate(copy[head as number], rest, replacement);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && replacement === DELETE) delete copy[head as string];
  else copy[head as string] = mutate(copy[head as string], rest, replacement);
  return copy;
}

const nasty = fc.constantFrom<unknown>(
  DELETE,
  null,
  "",
  " ",
  0,
  -1,
  1.5,
  "1e400",
  1e308,
  -1e308,
  99_999_999_999_999,
  "99999999999999999999",
  "１７５００３００７３",
  "\ud800",
  "\u0000",
  "x".repeat(2000),
  [],
  {},
  [[[[[]]]]],
  true,
  "whatsapp_business_account",
  "sent",
  "read",
  "failed",
  "played",
  "MM_LITE_TERMS_SIGNED",
  "marketing_messages",
  "stop",
  { code: "131050" },
  [{ code: 131050 }],
  Number.MAX_SAFE_INTEGER,
);

const replacementArb = fc.oneof(
  nasty,
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);

function mutatedArb(wabaId: string, wamid: string) {
  const base = samples(wabaId, wamid);
  return fc
    .tuple(
      fc.nat(base.length - 1),
      fc.array(fc.tuple(fc.nat(), replacementArb), { minLength: 1, maxLength: 5 }),
    )
    .map(([i, edits]) => {
      let v: unknown = base[i];
      for (const [pick, replacement] of edits) {
        const all = paths(v);
        if (all.length === 0) break;
        v = mutate(v, all[pick % all.length] as Path, replacement);
      }
      return JSON.stringify(v) ?? "null";
    });
}

const randomArb = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .jsonValue({ maxDepth: 4 })
    .map((entry) =>
      JSON.stringify({ object: "whatsapp_business_account", entry: Array.isArray(entry) ? entry : [entry] }),
    ),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ maxLength: 50 }).map((s) => `{"object":"whatsapp_business_account","entry":[${s}`),
);

describe("POST /webhooks/meta and the consumer under random bodies", () => {
  it("never answer 5xx / never throw, for thousands of signed random and mutated bodies", async () => {
    const bot = await setupBot();
    const { wamid } = await acceptedSend(bot);
    const bodies: string[] = [];
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 3, arbitrary: mutatedArb(bot.wabaId, wamid) },
          { weight: 2, arbitrary: randomArb },
        ),
        async (body) => {
          const status = await post(body);
          expect([200, 400]).toContain(status);
          if (status === 200) taken += 1;
          bodies.push(body);
        },
      ),
      { numRuns: 3000 },
    );
    // Bytes that are not UTF-8; a body nested far beyond any recursion limit.
    expect(await post(new Uint8Array([0xc3, 0x28, 0xff, 0x00]))).toBe(400);
    const deep = `{"object":"whatsapp_business_account","entry":[${"[".repeat(200_000)}${"]".repeat(200_000)}]}`;
    expect(encoder.encode(deep).byteLength).toBeLessThan(1024 * 1024);
    expect(await post(deep)).toBe(200);
    expect(await post(deep.slice(0, -1))).toBe(400);
    bodies.push(deep);
    // Most bodies keep the envelope, so the consumer below sees plenty of half-valid notifications.
    expect(taken).toBeGreaterThan(1000);

    for (let i = 0; i < bodies.length; i += 100) {
      const part = bodies.slice(i, i + 100);
      const result = await consume(part.map((b) => inline(b)));
      expect(result.retryMessages).toEqual([]);
      expect(result.explicitAcks).toHaveLength(part.length);
    }
  }, 180_000);
});
