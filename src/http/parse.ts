import type { Context } from "hono";
import type { z } from "zod";
import { errors } from "../lib/errors";

/** For routes that parse by hand: the same answers the zod-openapi hook gives. */
export async function parseJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw errors.invalidJson();
  }
}

export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw errors.invalidRequest(
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
    );
  }
  return parsed.data;
}
