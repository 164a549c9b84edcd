// GET/POST /webhooks/meta at the HTTP edge: the handshake, the signature (checked before parsing,
// nothing stored or enqueued when it fails), the envelope check, the size bound, big bodies.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { INLINE_MAX_CHARS } from "../../src/webhooks/inbox";
import { signBody } from "../../src/webhooks/signature";
import { gw } from "../helpers";
import { APP_SECRET, postSigned, postWebhook, row, statusNotification, VERIFY_TOKEN } from "./helpers";

// Polls wait for the queue consumer; a loaded machine needs more than the default 20 s.
vi.setConfig({ testTimeout: 90_000 });

/** Calls the Worker with a queue that records what it is given (and still enqueues it). */
async function withQueueSpy(request: Request) {
  const sent: unknown[] = [];
  const queue = {
    send: async (body: unknown, opts?: QueueSendOptions) => {
      sent.push(body);
      return env.WEBHOOK_QUEUE.send(body, opts);
    },
    sendBatch: async (msgs: Iterable<MessageSendRequest>, opts?: QueueSendBatchOptions) => {
      for (const m of msgs) sent.push(m.body);
      return env.WEBHOOK_QUEUE.sendBatch(msgs, opts);
    },
  };
  const ctx = createExecutionContext();
  const res = await worker.fetch!(request as never, { ...env, WEBHOOK_QUEUE: queue } as never, ctx);
  await waitOnExecutionContext(ctx);
  return { res, sent };
}

const unknownWamidBody = (wamid: string) =>
  JSON.stringify(
    statusNotification("102290129340398", [{ id: wamid, status: "delivered", timestamp: 1750030073 }]),
  );

function post(body: string, signature?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== undefined) headers["x-hub-signature-256"] = signature;
  return new Request("http://gateway.test/webhooks/meta", { method: "POST", headers, body });
}

describe("GET /webhooks/meta (handshake)", () => {
  it("echoes the challenge as plain text when mode and token match", async () => {
    const res = await gw(
      `/webhooks/meta?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("1158201444");
  });

  it("refuses a wrong or missing token, or another mode, with 403 forbidden", async () => {
    for (const query of [
      `hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`,
      `hub.mode=subscribe&hub.challenge=1`,
      `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
      `hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
      `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}x&hub.challenge=1`,
      "",
    ]) {
      const res = await gw(`/webhooks/meta?${query}`);
      expect(res.status, query).toBe(403);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({ status: 403, code: "forbidden" });
    }
  });
});

describe("POST /webhooks/meta", () => {
  it("takes a validly signed notification with 200 and enqueues it once", async () => {
    const body = unknownWamidBody("wamid.ok");
    const { res, sent } = await withQueueSpy(post(body, await signBody(APP_SECRET, body)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: true });
    expect(sent).toEqual([{ v: 1, kind: "notification", body, receivedAt: expect.any(String) }]);
  });

  it("refuses a bad, missing or wrongly prefixed signature with 401 and stores nothing", async () => {
    const body = unknownWamidBody("wamid.forged");
    const good = await signBody(APP_SECRET, body);
    const hex = good.slice("sha256=".length);
    const cases: (string | undefined)[] = [
      undefined,
      "",
      hex, // no prefix
      `sha1=${hex}`,
      `SHA256=${hex}`,
      `sha256=${hex.slice(0, 63)}`,
      `sha256=${hex}00`,
      `sha256=${hex.replace(/^./, (c) => (c === "0" ? "1" : "0"))}`,
      await signBody("another-secret", body),
      await signBody(APP_SECRET, `${body} `), // signature of other bytes
      `sha256=${"z".repeat(64)}`,
    ];
    for (const signature of cases) {
      const { res, sent } = await withQueueSpy(post(body, signature));
      expect(res.status, String(signature)).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({ status: 401, code: "invalid_signature" });
      expect(sent).toEqual([]);
    }
    // Nothing reached D1 either: no staged body, and (after the queue's batch window) no status kept.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await row("SELECT COUNT(*) AS n FROM webhook_inbox")).toEqual({ n: 0 });
    expect(await row("SELECT COUNT(*) AS n FROM pending_statuses WHERE wamid = 'wamid.forged'")).toEqual({
      n: 0,
    });
  });

  it("checks the signature before parsing: unsigned garbage is a 401, not a 400", async () => {
    const res = await postWebhook("{not json", "sha256=00");
    expect(res.status).toBe(401);
  });

  it("refuses a signed body that is not a WhatsApp notification with 400 invalid_notification", async () => {
    const bodies = [
      "{not json",
      "",
      "null",
      "[]",
      '"whatsapp_business_account"',
      JSON.stringify({ object: "page", entry: [] }),
      JSON.stringify({ object: "whatsapp_business_account" }),
      JSON.stringify({ object: "whatsapp_business_account", entry: {} }),
      JSON.stringify({ entry: [] }),
    ];
    for (const body of bodies) {
      const { res, sent } = await withQueueSpy(post(body, await signBody(APP_SECRET, body)));
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ status: 400, code: "invalid_notification" });
      expect(sent).toEqual([]);
    }
    // Bytes that are not UTF-8.
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const res = await worker.fetch!(
      new Request("http://gateway.test/webhooks/meta", {
        method: "POST",
        headers: { "x-hub-signature-256": await signBody(APP_SECRET, bytes) },
        body: bytes,
      }) as never,
      env as never,
      createExecutionContext(),
    );
    expect(res.status).toBe(400);
  });

  it("accepts an empty entry list (nothing to do) and a UTF-8 BOM", async () => {
    expect((await postSigned({ object: "whatsapp_business_account", entry: [] })).status).toBe(200);
    expect(
      (await postSigned(`\uFEFF${JSON.stringify({ object: "whatsapp_business_account", entry: [] })}`))
        .status,
    ).toBe(200);
  });

  it("refuses a body over 1 MiB with 413 before reading it all", async () => {
    const big = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [],
      pad: "x".repeat(1024 * 1024),
    });
    const res = await postWebhook(big, await signBody(APP_SECRET, big));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
  });

  it("stages a body too large for one queue message in D1 and enqueues its id", async () => {
    const statuses = Array.from({ length: 1000 }, (_, i) => ({
      id: `wamid.big${i}`,
      status: "delivered",
      timestamp: 1750030073,
    }));
    const body = JSON.stringify(statusNotification("102290129340398", statuses));
    expect(body.length).toBeGreaterThan(INLINE_MAX_CHARS);
    const { res, sent } = await withQueueSpy(post(body, await signBody(APP_SECRET, body)));
    expect(res.status).toBe(200);
    expect(sent).toEqual([
      { v: 1, kind: "staged", inboxId: expect.stringMatching(/^whk_/), receivedAt: expect.any(String) },
    ]);
  });

  it("is listed in the OpenAPI document (get and post)", async () => {
    const doc = (await (await gw("/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/webhooks/meta"] ?? {}).sort()).toEqual(["get", "post"]);
  });

  it("answers other methods with 405", async () => {
    const res = await gw("/webhooks/meta", { method: "PUT" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
  });
});
