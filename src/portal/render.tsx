/** Shared by the portal's handlers: the page shell around a body, problems as sentences, form helpers. */
import type { Child } from "hono/jsx";
import type { StoredAnswer } from "../http/idempotency";
import type { PortalContext } from "./guard";
import { Layout, type NavKey } from "./layout";

export async function page(
  c: PortalContext,
  opts: { title: string; nav?: NavKey; status?: number; refreshSeconds?: number },
  body: Child,
): Promise<Response> {
  const signedIn = Boolean(c.get("session")?.bot);
  const html = (
    <Layout
      title={opts.title}
      nonce={c.get("nonce")}
      bot={signedIn ? { name: c.get("bot").name } : null}
      csrf={c.get("csrf")}
      nav={opts.nav ?? null}
      refreshSeconds={opts.refreshSeconds}
    >
      {body}
    </Layout>
  ) as unknown as { toString(): string | Promise<string> };
  return c.html(`<!doctype html>${await html.toString()}`, (opts.status ?? 200) as 200);
}

/** A problem as the user should read it: the title, and the detail when there is one. */
export function problemText(p: { title?: unknown; detail?: unknown }): string {
  const title = typeof p.title === "string" ? p.title : "The request was refused";
  return typeof p.detail === "string" && p.detail ? `${title}: ${p.detail}` : title;
}

export function answerProblem(answer: StoredAnswer): {
  status: number;
  text: string;
  body: Record<string, unknown>;
} {
  const body = (answer.body ?? {}) as Record<string, unknown>;
  return { status: answer.status, text: problemText(body), body };
}

export const FORM_KEY = /^[A-Za-z0-9_-]{16,64}$/;
export const formKeyOf = (v: unknown) =>
  typeof v === "string" && FORM_KEY.test(v) ? `portal:${v}` : undefined;
export const str = (v: unknown) => (typeof v === "string" ? v : "");
