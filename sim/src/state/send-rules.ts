// Meta's checks of a well-formed send against the WABA's templates and MM Lite onboarding, as a pure
// function so the order of checks is visible in one place.
import type { SendRequest } from "../graph/send-validate";
import { type Category, type LineConfig, type Product, type SendEndpoint, templateKey } from "../types";

export type SendDecision =
  | { ok: true; product: Product; category: Category }
  | { ok: false; code: number; details: string };

export function decideSend(cfg: LineConfig, endpoint: SendEndpoint, req: SendRequest): SendDecision {
  const tpl = cfg.templates[templateKey(req.template, req.language)];
  // 1. The template must exist in exactly this language for the number's WABA.
  if (!tpl)
    return {
      ok: false,
      code: 132001,
      details: `template name (${req.template}) does not exist in ${req.language}`,
    };
  // 2. Only APPROVED templates can be sent; paused / disabled have their own codes.
  if (tpl.status === "PAUSED")
    return { ok: false, code: 132015, details: `template ${req.template} is paused` };
  if (tpl.status === "DISABLED")
    return { ok: false, code: 132016, details: `template ${req.template} is disabled` };
  if (tpl.status !== "APPROVED")
    return {
      ok: false,
      code: 132001,
      details: `template name (${req.template}) does not exist in ${req.language} (status ${tpl.status})`,
    };
  // 3. Body parameters must match the template's placeholders one to one.
  if (req.params.length !== tpl.paramCount)
    return {
      ok: false,
      code: 132000,
      details: `body: number of localizable_params (${req.params.length}) does not match the expected number of params (${tpl.paramCount})`,
    };
  if (endpoint === "send_cloud") return { ok: true, product: "cloud_api", category: tpl.category };
  // 4. MM Lite carries marketing templates only.
  if (tpl.category !== "MARKETING")
    return {
      ok: false,
      code: 134100,
      details: `template ${req.template} is ${tpl.category}; only MARKETING templates can be sent with MM Lite`,
    };
  // 5. Not onboarded: STRICT refuses, the default policy quietly uses the Cloud API.
  if (!cfg.mmLiteOnboarded) {
    if (req.productPolicy === "STRICT")
      return {
        ok: false,
        code: 131055,
        details: "You must accept the Marketing Messages Lite API terms before using this endpoint",
      };
    return { ok: true, product: "cloud_api", category: tpl.category };
  }
  return { ok: true, product: "mm_lite", category: tpl.category };
}
