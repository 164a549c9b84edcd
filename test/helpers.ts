// Helpers for driving the gateway (through its own fetch handler) and the Meta simulator.
import { env, exports } from "cloudflare:workers";

export const ADMIN = "test-admin-token";
export const WABA = "102290129340398";
export const PHONE = "106540352242922";

let counter = 0;
/** A WABA / phone-number pair unique to one test, so tests in a file never share Meta state. */
export function uniqueWaba(): { wabaId: string; phoneNumberId: string } {
  counter += 1;
  const n = `${Date.now() % 1_000_000}${counter}`.padStart(8, "0");
  return { wabaId: `1022901${n}`, phoneNumberId: `1065403${n}` };
}

export function gw(path: string, init: RequestInit & { json?: unknown; key?: string; admin?: boolean } = {}) {
  const { json, key, admin, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("content-type", "application/json");
  if (key) headers.set("authorization", `Key ${key}`);
  if (admin) headers.set("authorization", `Bearer ${ADMIN}`);
  return exports.default.fetch(`http://gateway.test${path}`, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
}

export async function sim<T = any>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await env.META_SIM.fetch(`http://meta-sim${path}`, {
    method,
    headers: json !== undefined ? { "content-type": "application/json" } : {},
    body: json !== undefined ? JSON.stringify(json) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export const templates = [
  {
    name: "fall_sale",
    language: "pt_BR",
    status: "APPROVED",
    category: "MARKETING",
    bodyText: "Oi {{1}}, até {{2}}!",
  },
  {
    name: "order_update",
    language: "pt_BR",
    status: "APPROVED",
    category: "UTILITY",
    bodyText: "Pedido {{1}} enviado",
  },
  { name: "winter_sale", language: "pt_BR", status: "PENDING", category: "MARKETING", bodyText: "Oi {{1}}" },
  { name: "no_params", language: "en_US", status: "APPROVED", category: "MARKETING", bodyText: "Hello!" },
];

export interface TestBot {
  id: string;
  apiKey: string;
  wabaId: string;
  phoneNumberId: string;
}

/** A bot plus its WABA at the simulator (onboarded or not), with the standard templates. */
export async function setupBot(
  opts: { onboarding?: string; legacy?: string | null; throughputMps?: number; restricted?: boolean } = {},
): Promise<TestBot> {
  const { wabaId, phoneNumberId } = uniqueWaba();
  await sim("PUT", `/_sim/wabas/${wabaId}`, {
    onboardingStatus: opts.onboarding ?? "ONBOARDED",
    legacyStatus: opts.legacy ?? null,
    phoneNumbers: [{ id: phoneNumberId, throughputMps: 1000 }],
    templates,
  });
  const res = await gw("/admin/bots", {
    method: "POST",
    admin: true,
    json: {
      name: "Store",
      wabaId,
      phoneNumberId,
      businessId: "5060",
      throughputMps: opts.throughputMps ?? 80,
      mmLiteRestricted: opts.restricted ?? false,
    },
  });
  if (res.status !== 201) throw new Error(`bot creation failed: ${res.status} ${await res.text()}`);
  const bot = (await res.json()) as { id: string; apiKey: string };
  return { id: bot.id, apiKey: bot.apiKey, wabaId, phoneNumberId };
}

export function sendBody(over: Record<string, unknown> = {}) {
  return {
    to: "+55 11 99999-0001",
    template: { name: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] },
    ...over,
  };
}

/** Poll a message until it leaves `queued` (the queue consumer runs inside the test runtime). */
export async function settled(apiKey: string, id: string, timeoutMs = 10_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await gw(`/v1/messages/${id}`, { key: apiKey });
    const body = (await res.json()) as { status: string };
    if (body.status !== "queued" || Date.now() > until) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function statusQueries(wabaId: string): Promise<number> {
  const stats = await sim("GET", "/_sim/stats");
  return stats.statusQueries?.byWaba?.[wabaId] ?? 0;
}
