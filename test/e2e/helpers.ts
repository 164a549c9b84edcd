/**
 * Black-box helpers: plain HTTP against the gateway under `wrangler dev`, set-up of the Meta fake,
 * and the checks every contract test shares (problem+json, what Meta received).
 */
import { expect } from "vitest";
import {
  type FakeMeta,
  type FakeTemplate,
  type OnboardingStatus,
  type RecordedRequest,
  sentBodyTexts,
} from "./fake-meta";
import type { Gateway } from "./wrangler";

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export interface CallOptions {
  /** A JSON value (serialised) or a raw string body. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  /** Bot API key: sent as `Authorization: Key <apiKey>`. */
  key?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  bearer?: string;
}

export interface Called {
  res: Response;
  status: number;
  text: string;
  /** Parsed JSON body (undefined when it is not JSON). */
  json: any;
}

export async function call(
  gw: Gateway,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<Called> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key !== undefined) headers.authorization = `Key ${opts.key}`;
  if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { res, status: res.status, text, json };
}

export const admin = (gw: Gateway, method: string, path: string, opts: CallOptions = {}) =>
  call(gw, method, path, { bearer: gw.adminToken, ...opts });

/** Every error answer: problem+json with `type`, `title`, `status` (= the HTTP status) and `code`. */
export function expectProblem(r: Called, status: number, code: string): any {
  expect(r.status, `${status} ${code} expected, got ${r.status}: ${r.text}`).toBe(status);
  expect(r.res.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json\b/);
  expect(r.json, r.text).toBeTypeOf("object");
  expect(r.json.type, r.text).toBeTypeOf("string");
  expect(r.json.title, r.text).toBeTypeOf("string");
  expect(r.json.title.length).toBeGreaterThan(0);
  expect(r.json.status, r.text).toBe(status);
  expect(r.json.code, r.text).toBe(code);
  return r.json;
}

let idSeq = 0;
/** Unique numeric Graph-style ids for this run (each test gets its own WABA and number). */
export function graphIds(): { wabaId: string; phoneNumberId: string; businessId: string } {
  idSeq++;
  const n = String(idSeq).padStart(4, "0");
  return { wabaId: `10229012${n}`, phoneNumberId: `10654035${n}`, businessId: `5060${n}` };
}

/** The templates every test WABA has (names chosen so Meta's loose name filter matches several). */
export const TEMPLATES: FakeTemplate[] = [
  // Listed first and matching the `fall_sale` filter too: the gateway must compare names exactly.
  {
    name: "fall_sale_v2",
    language: "pt_BR",
    status: "APPROVED",
    category: "MARKETING",
    bodyText: "Oi {{1}}",
  },
  { name: "fall_sale", language: "en_US", status: "APPROVED", category: "MARKETING", bodyText: "Hi {{1}}" },
  {
    name: "fall_sale",
    language: "pt_BR",
    status: "APPROVED",
    category: "MARKETING",
    bodyText: "Oi {{1}}, a promoção vai até {{2}}!",
  },
  {
    name: "order_update",
    language: "pt_BR",
    status: "APPROVED",
    category: "UTILITY",
    bodyText: "Pedido {{1}}: {{2}}",
  },
  {
    name: "pending_promo",
    language: "pt_BR",
    status: "PENDING",
    category: "MARKETING",
    bodyText: "Oi {{1}}",
  },
  {
    name: "no_params",
    language: "pt_BR",
    status: "APPROVED",
    category: "MARKETING",
    bodyText: "Promoção hoje!",
  },
];

export interface TestBot {
  id: string;
  apiKey: string;
  wabaId: string;
  phoneNumberId: string;
  businessId: string;
  created: any;
}

export interface BotSetup {
  onboarding?: OnboardingStatus | null;
  legacy?: "INELIGIBLE" | "ELIGIBLE" | "ONBOARDED" | null;
  templates?: FakeTemplate[];
  mmLiteRestricted?: boolean;
  throughputMps?: number;
  /** Meta's own per-number cap in the fake (default 80/s). */
  metaThroughputMps?: number;
}

/** A WABA with a number and templates at the fake, and a bot registered for it at the gateway. */
export async function createBot(gw: Gateway, fake: FakeMeta, setup: BotSetup = {}): Promise<TestBot> {
  const ids = graphIds();
  fake.upsertWaba({
    id: ids.wabaId,
    onboardingStatus: setup.onboarding === undefined ? "ELIGIBLE" : setup.onboarding,
    legacyStatus: setup.legacy ?? null,
    phoneNumbers: [{ id: ids.phoneNumberId, throughputMps: setup.metaThroughputMps ?? 80 }],
    templates: setup.templates ?? TEMPLATES,
  });
  const body: Record<string, unknown> = { name: `Store ${ids.wabaId}`, ...ids };
  if (setup.mmLiteRestricted !== undefined) body.mmLiteRestricted = setup.mmLiteRestricted;
  if (setup.throughputMps !== undefined) body.throughputMps = setup.throughputMps;
  const r = await admin(gw, "POST", "/admin/bots", { body });
  expect(r.status, r.text).toBe(201);
  return { id: r.json.id, apiKey: r.json.apiKey, ...ids, created: r.json };
}

export function fallSale(to = "+55 11 99999-0001", extra: Record<string, unknown> = {}) {
  return { to, template: { name: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] }, ...extra };
}

/** Polls `GET /v1/messages/{id}` until `done` holds (default: no longer queued); bounded. */
export async function waitMessage(
  gw: Gateway,
  key: string,
  id: string,
  done: (m: any) => boolean = (m) => m.status !== "queued",
  timeoutMs = 45_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: Called | undefined;
  while (Date.now() < deadline) {
    last = await call(gw, "GET", `/v1/messages/${id}`, { key });
    expect(last.status, last.text).toBe(200);
    if (done(last.json)) return last.json;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`message ${id} did not reach the expected state in ${timeoutMs} ms; last: ${last?.text}`);
}

export interface ExpectedSend {
  endpoint: "messages" | "marketing_messages";
  phoneNumberId: string;
  to: string;
  name: string;
  language: string;
  params: string[];
}

/** What Meta must have received for one template send. */
export function expectSend(rec: RecordedRequest | undefined, want: ExpectedSend, accessToken: string): void {
  expect(rec, "Meta received no such send").toBeDefined();
  const r = rec as RecordedRequest;
  expect(r.method).toBe("POST");
  expect(r.path).toBe(`/v25.0/${want.phoneNumberId}/${want.endpoint}`);
  expect(r.authorization).toBe(`Bearer ${accessToken}`);
  expect(r.contentType ?? "").toMatch(/^application\/json/);
  expect(r.body?.messaging_product).toBe("whatsapp");
  expect(r.body?.type).toBe("template");
  expect(r.body?.to).toBe(want.to);
  expect(r.body?.template?.name).toBe(want.name);
  expect(r.body?.template?.language?.code).toBe(want.language);
  expect(sentBodyTexts(r)).toEqual(want.params);
  if (want.endpoint === "messages") expect(r.body).not.toHaveProperty("product_policy");
  else if (r.body?.product_policy !== undefined)
    expect(["STRICT", "CLOUD_API_FALLBACK"]).toContain(r.body.product_policy);
}

/** The fields of `GET /v1/messages/{id}` (api.md); extra fields are allowed. */
export const MESSAGE_FIELDS = [
  "id",
  "campaignId",
  "to",
  "status",
  "route",
  "routeReason",
  "confirmedRoute",
  "wamid",
  "error",
  "acceptedAt",
  "sentAt",
  "deliveredAt",
  "readAt",
  "failedAt",
];
