// Helpers for driving the Meta simulator from tests through the gateway's META_SIM service binding.
import { env } from "cloudflare:workers";

/** Parsed JSON bodies are untyped in these tests: assertions check their exact values. */
export type Json = ReturnType<typeof JSON.parse>;

export const TOKEN = "test-meta-token";
export const APP_SECRET = "test-app-secret";
export const WABA = "102290129340398";
export const PHONE = "106540352242922";
export const TO = "5511999990001";

export async function sim(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("content-type", "application/json");
  return env.META_SIM.fetch(`http://meta-sim${path}`, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
}

export async function control<T = Json>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await sim(`/_sim${path}`, { method, json });
  if (!res.ok) throw new Error(`${method} /_sim${path} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Graph call with the right token; returns status and parsed body. */
export async function graph(
  method: string,
  path: string,
  json?: unknown,
  token = TOKEN,
): Promise<{ status: number; body: Json }> {
  const res = await sim(`/v25.0${path}`, { method, json, headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

export function templateSend(
  name: string,
  params: string[],
  extra: Record<string, unknown> = {},
  language = "pt_BR",
) {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: TO,
    type: "template",
    template: {
      name,
      language: { code: language },
      components: params.length
        ? [{ type: "body", parameters: params.map((text) => ({ type: "text", text })) }]
        : undefined,
    },
    ...extra,
  };
}

/** A WABA with one number and a small template set (marketing, utility, paused, disabled). */
export async function setupWaba(opts: { onboarded?: boolean; throughputMps?: number } = {}) {
  return control("PUT", `/wabas/${WABA}`, {
    onboardingStatus: opts.onboarded ? "ONBOARDED" : "ELIGIBLE",
    legacyStatus: null,
    ownerBusinessId: "998877665544332",
    phoneNumbers: [{ id: PHONE, displayPhoneNumber: "15550783881", throughputMps: opts.throughputMps }],
    templates: [
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
        bodyText: "Pedido {{1}}",
      },
      { name: "paused_promo", language: "pt_BR", status: "PAUSED", category: "MARKETING", bodyText: "Promo" },
      { name: "disabled_promo", language: "pt_BR", status: "DISABLED", category: "MARKETING", bodyText: "X" },
      { name: "pending_promo", language: "pt_BR", status: "PENDING", category: "MARKETING", bodyText: "Y" },
    ],
  });
}

export async function hmacHex(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}
