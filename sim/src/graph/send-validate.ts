// Stateless shape checks of a send body, done in the Worker before the per-number Durable Object is
// involved. Meta answers every malformed send with code 100; error_data.details says what was wrong.
import type { SendEndpoint } from "../types";

export interface SendRequest {
  to: string;
  /** `to` without "+": what Meta echoes as contacts[].wa_id. */
  waId: string;
  template: string;
  language: string;
  /** Body parameters as text (fallback_value for currency / date_time). */
  params: string[];
  productPolicy: "CLOUD_API_FALLBACK" | "STRICT";
}

export type SendCheck = { ok: true; req: SendRequest } | { ok: false; details: string };

const COMPONENT_TYPES = new Set(["header", "body", "button", "footer", "carousel", "limited_time_offer"]);
const BUTTON_SUB_TYPES = new Set(["quick_reply", "url", "copy_code", "flow", "catalog", "mpm", "voice_call"]);
const MEDIA_TYPES = new Set(["image", "video", "document"]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Returns an error description for one parameter, or the text it contributes, or null. */
function checkParameter(p: unknown, where: string): { error: string } | { text: string | null } {
  if (!isObject(p) || typeof p.type !== "string") return { error: `${where}: parameter must have a type` };
  switch (p.type) {
    case "text":
      if (typeof p.text !== "string" || p.text.length === 0) return { error: `${where}: text is required` };
      return { text: p.text };
    case "currency": {
      const c = p.currency;
      if (!isObject(c) || typeof c.fallback_value !== "string" || typeof c.code !== "string")
        return { error: `${where}: currency needs fallback_value, code and amount_1000` };
      if (typeof c.amount_1000 !== "number")
        return { error: `${where}: currency.amount_1000 must be a number` };
      return { text: c.fallback_value };
    }
    case "date_time": {
      const d = p.date_time;
      if (!isObject(d) || typeof d.fallback_value !== "string")
        return { error: `${where}: date_time.fallback_value is required` };
      return { text: d.fallback_value };
    }
    case "payload":
      if (typeof p.payload !== "string") return { error: `${where}: payload must be a string` };
      return { text: null };
    case "coupon_code":
      if (typeof p.coupon_code !== "string") return { error: `${where}: coupon_code must be a string` };
      return { text: null };
    case "action":
    case "location":
    case "limited_time_offer":
      return { text: null };
    default:
      if (MEDIA_TYPES.has(p.type)) {
        const m = p[p.type];
        if (!isObject(m) || (typeof m.link !== "string" && typeof m.id !== "string"))
          return { error: `${where}: ${p.type} needs a link or an id` };
        return { text: null };
      }
      return { error: `${where}: unsupported parameter type ${String(p.type)}` };
  }
}

function checkComponents(components: unknown): { error: string } | { params: string[] } {
  if (components === undefined) return { params: [] };
  if (!Array.isArray(components)) return { error: "template.components must be an array" };
  const params: string[] = [];
  for (const [i, comp] of components.entries()) {
    const where = `template.components[${i}]`;
    if (!isObject(comp) || typeof comp.type !== "string") return { error: `${where}.type is required` };
    const type = comp.type.toLowerCase();
    if (!COMPONENT_TYPES.has(type)) return { error: `${where}.type ${comp.type} is not valid` };
    if (type === "button") {
      if (typeof comp.sub_type !== "string" || !BUTTON_SUB_TYPES.has(comp.sub_type.toLowerCase()))
        return { error: `${where}.sub_type is required for buttons` };
      if (!(typeof comp.index === "string" && /^\d+$/.test(comp.index)) && !Number.isInteger(comp.index))
        return { error: `${where}.index is required for buttons` };
    }
    if (comp.parameters === undefined) continue;
    if (!Array.isArray(comp.parameters)) return { error: `${where}.parameters must be an array` };
    for (const [j, p] of comp.parameters.entries()) {
      const r = checkParameter(p, `${where}.parameters[${j}]`);
      if ("error" in r) return r;
      if (type === "body") params.push(r.text ?? "");
    }
  }
  return { params };
}

export function validateSend(body: unknown, endpoint: SendEndpoint): SendCheck {
  const fail = (details: string): SendCheck => ({ ok: false, details });
  if (!isObject(body)) return fail("The request body must be a JSON object");
  if (body.messaging_product !== "whatsapp")
    return fail(`Param messaging_product must be "whatsapp" - got ${JSON.stringify(body.messaging_product)}`);
  if (body.recipient_type !== undefined && body.recipient_type !== "individual")
    return fail("Param recipient_type must be individual");
  if (typeof body.to !== "string" || !/^\+?\d{5,15}$/.test(body.to))
    return fail("Param to must be a phone number made of 5 to 15 digits");
  if (body.type !== "template") return fail("Param type must be template");
  const t = body.template;
  if (!isObject(t)) return fail("Param template is required");
  if (typeof t.name !== "string" || t.name.length === 0) return fail("Param template.name is required");
  if (!isObject(t.language) || typeof t.language.code !== "string" || t.language.code.length === 0)
    return fail("Param template.language.code is required");
  const comps = checkComponents(t.components);
  if ("error" in comps) return fail(comps.error);

  let productPolicy: SendRequest["productPolicy"] = "CLOUD_API_FALLBACK";
  if (endpoint === "send_mm_lite") {
    if (body.product_policy !== undefined) {
      if (body.product_policy !== "STRICT" && body.product_policy !== "CLOUD_API_FALLBACK")
        return fail("Param product_policy must be one of CLOUD_API_FALLBACK, STRICT");
      productPolicy = body.product_policy;
    }
    if (body.message_activity_sharing !== undefined && typeof body.message_activity_sharing !== "boolean")
      return fail("Param message_activity_sharing must be a boolean");
  } else if (body.product_policy !== undefined) {
    // The Cloud API endpoint has no such parameter; Meta rejects unknown MM Lite-only params there.
    return fail("Param product_policy is only valid on /marketing_messages");
  }

  return {
    ok: true,
    req: {
      to: body.to,
      waId: body.to.replace(/^\+/, ""),
      template: t.name,
      language: t.language.code,
      params: comps.params,
      productPolicy,
    },
  };
}
