/**
 * The bench's template and audience, and the Graph request bodies the gateway makes from them (the
 * bare loops and the paced control post these straight to the simulator).
 */
import { phoneOf } from "./fixtures";

export const TEMPLATE = {
  name: "bench_offer",
  language: "en_US",
  body: "Hi {{1}}, the offer runs until {{2}}!",
};

export const paramsOf = (i: number) => [`Customer ${i}`, "31/12"];

export function bareBodies(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: phoneOf(i).slice(1),
      type: "template",
      template: {
        name: TEMPLATE.name,
        language: { code: TEMPLATE.language },
        components: [{ type: "body", parameters: paramsOf(i).map((text) => ({ type: "text", text })) }],
      },
      product_policy: "STRICT",
    }),
  );
}
