import { usesNamedParams } from "./templates";
import type { MetaProduct, TemplateMessage, TemplateMessageBody, TextParameter } from "./types";

/** What Meta accepts as `to`: the E.164 digits (the caller has normalised the number already). */
const E164 = /^\+?[1-9]\d{5,14}$/;

/**
 * The exact JSON body of a template send, identical for both products except MM Lite's
 * `product_policy`. MM Lite defaults to STRICT: with Meta's own fallback the gateway could not tell
 * which product carried the message, so it re-sends through the Cloud API itself.
 * Throws a TypeError on a malformed call (a bug in the caller, never a user error).
 */
export function buildTemplateMessageBody(product: MetaProduct, msg: TemplateMessage): TemplateMessageBody {
  if (!E164.test(msg.to)) throw new TypeError("`to` must be an E.164 number");
  const { name, language, params, paramNames, components } = msg.template;
  const all: unknown[] = components ? [...components] : [];
  if (params && params.length > 0) {
    if (all.some(isBodyComponent)) throw new TypeError("Body parameters given both as params and components");
    if (paramNames && paramNames.length !== params.length) {
      throw new TypeError("`paramNames` must have one name per parameter");
    }
    // Positional names ("1", "2") are not sent: Meta wants `parameter_name` for named templates only.
    const names = paramNames && usesNamedParams(paramNames) ? paramNames : undefined;
    all.push({ type: "body", parameters: params.map((text, i) => textParameter(text, names?.[i])) });
  }
  const body: TemplateMessageBody = {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: msg.to.startsWith("+") ? msg.to.slice(1) : msg.to,
    type: "template",
    template: { name, language: { code: language }, ...(all.length > 0 ? { components: all } : {}) },
  };
  if (product === "mm_lite") body.product_policy = msg.productPolicy ?? "STRICT";
  return body;
}

function textParameter(text: string, name: string | undefined): TextParameter {
  return name === undefined ? { type: "text", text } : { type: "text", parameter_name: name, text };
}

function isBodyComponent(c: unknown): boolean {
  return (
    typeof c === "object" &&
    c !== null &&
    typeof (c as { type?: unknown }).type === "string" &&
    (c as { type: string }).type.toLowerCase() === "body"
  );
}
