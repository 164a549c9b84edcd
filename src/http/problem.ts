import { z } from "@hono/zod-openapi";

/** The problem+json body every error answers with (documented once, referenced by every route). */
export const ProblemSchema = z
  .object({
    type: z.literal("about:blank"),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: "template_not_approved" }),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

export const problemResponses = {
  400: problem("Malformed JSON (`invalid_json`) or schema violation (`invalid_request`)"),
  401: problem("Missing or unknown credentials (`unauthorized`)"),
  404: problem("Not found, or not this bot's (`not_found`)"),
  409: problem("Conflict"),
  413: problem("Body over the limit (`payload_too_large`)"),
  422: problem("Refused (template, parameters or phone number)"),
  503: problem("Meta unavailable and nothing cached (`meta_unavailable`)"),
} as const;

export function pickProblems<K extends keyof typeof problemResponses>(...codes: K[]) {
  return Object.fromEntries(codes.map((c) => [c, problemResponses[c]])) as Pick<typeof problemResponses, K>;
}
