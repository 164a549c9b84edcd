import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "./context";
import { HTTP_METHODS, type OpenApiDocument, openApiDocument } from "./openapi-doc";

export { openApiConfig } from "./openapi-doc";

/**
 * The service routes (`/healthz`, `/openapi.json`, `/docs`) are OpenAPI routes like the others, so
 * the document describes every route the app answers (test/http/openapi.test.ts walks them).
 */
export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Service"],
  summary: "Liveness",
  responses: {
    200: {
      description: "Up",
      content: { "application/json": { schema: z.object({ ok: z.literal(true) }).openapi("Health") } },
    },
  },
});

const documentRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["Service"],
  summary: "This OpenAPI 3.1 document",
  responses: {
    200: {
      description: "The document",
      content: {
        "application/json": {
          schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
        },
      },
    },
  },
});

const docsRoute = createRoute({
  method: "get",
  path: "/docs",
  tags: ["Service"],
  summary: "The document rendered as HTML (server-side, no script and no external asset)",
  responses: {
    200: { description: "The page", content: { "text/html": { schema: z.string() } } },
  },
});

export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "botKey", {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description: "`Key <apiKey>` (or `Bearer <apiKey>`); missing or unknown → 401 `unauthorized`",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", {
    type: "http",
    scheme: "bearer",
    description: "`Bearer <ADMIN_TOKEN>`",
  });
}

/** `/openapi.json` and `/docs`, plus the security schemes the routes refer to. */
export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  registerSecuritySchemes(app);
  app.openapi(documentRoute, (c) => c.json(openApiDocument(app) as never, 200));
  let page: string | undefined;
  app.openapi(docsRoute, (c) => {
    page ??= docsPage(openApiDocument(app));
    return c.html(page, 200, {
      // Nothing but the inline style: the page needs no script, image or external asset.
      "Content-Security-Policy":
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The page: every operation (parameters, request bodies, responses, examples) and every schema.

type Json = Record<string, unknown>;

function esc(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Backticked words of the descriptions as <code>, the rest escaped. */
function prose(text: unknown): string {
  if (typeof text !== "string" || text === "") return "";
  return esc(text)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\n\n/g, "</p><p>");
}

function pre(value: unknown): string {
  return `<pre>${esc(typeof value === "string" ? value : JSON.stringify(value, null, 2))}</pre>`;
}

function anchor(...parts: string[]): string {
  return parts
    .join("-")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

function schemaLink(schema: unknown): string {
  const ref = (schema as Json | undefined)?.$ref;
  if (typeof ref === "string") {
    const name = ref.split("/").pop() ?? ref;
    return `<a href="#schema-${anchor(name)}">${esc(name)}</a>`;
  }
  return schema === undefined ? "" : "inline schema";
}

/** Examples of a media type: its own, else its schema's (following one $ref). */
function examplesOf(media: Json, doc: OpenApiDocument): [string, unknown][] {
  if (media.example !== undefined) return [["example", media.example]];
  if (media.examples && typeof media.examples === "object") {
    return Object.entries(media.examples as Record<string, Json>).map(([name, ex]) => [
      typeof ex.summary === "string" ? ex.summary : name,
      ex.value,
    ]);
  }
  let schema = media.schema as Json | undefined;
  const ref = schema?.$ref;
  if (typeof ref === "string") schema = doc.components?.schemas?.[ref.split("/").pop() ?? ""];
  if (schema?.example !== undefined) return [["example", schema.example]];
  if (Array.isArray(schema?.examples)) return schema.examples.map((ex, i) => [`example ${i + 1}`, ex]);
  return [];
}

function mediaBlock(content: Record<string, Json> | undefined, doc: OpenApiDocument, open = true): string {
  if (!content) return "";
  return Object.entries(content)
    .map(([type, media]) => {
      const schema = media.schema as Json | undefined;
      const inline =
        schema && schema.$ref === undefined
          ? `<details><summary>schema</summary>${pre(schema)}</details>`
          : "";
      const examples = examplesOf(media, doc)
        .map(
          ([name, value]) =>
            `<details${open ? " open" : ""}><summary>${esc(name)}</summary>${pre(value)}</details>`,
        )
        .join("");
      return `<div class="media"><code>${esc(type)}</code> ${schemaLink(schema)}${inline}${examples}</div>`;
    })
    .join("");
}

function operationBlock(path: string, method: string, op: Json, doc: OpenApiDocument): string {
  const id = anchor("op", method, path);
  const security = Array.isArray(op.security)
    ? (op.security as Json[])
        .map((s) =>
          Object.keys(s)
            .map((k) => `<a href="#security-${anchor(k)}">${esc(k)}</a>`)
            .join(" + "),
        )
        .join(" or ")
    : "none";
  const params = Array.isArray(op.parameters) ? (op.parameters as Json[]) : [];
  const paramRows = params
    .map((p) => {
      const { description: _, ...schema } = (p.schema ?? {}) as Json;
      return `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? "yes" : "no"}</td><td><code>${esc(
        JSON.stringify(schema),
      )}</code></td><td>${prose(p.description)}</td></tr>`;
    })
    .join("");
  const body = op.requestBody as Json | undefined;
  const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
    .map(
      ([status, r]) =>
        // Success examples open, error examples folded (the problem shape is the same everywhere).
        `<li><strong>${esc(status)}</strong> ${prose(r.description)}${mediaBlock(r.content as Record<string, Json>, doc, /^2/.test(status))}</li>`,
    )
    .join("");
  return `<section id="${id}" class="op">
<h3><span class="m m-${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${prose(op.summary)}</p>${op.description ? `<p>${prose(op.description)}</p>` : ""}
<p class="sec">Security: ${security}</p>
${params.length ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th></th></tr>${paramRows}</table>` : ""}
${body ? `<h4>Request body${body.required ? " (required)" : ""}</h4>${mediaBlock(body.content as Record<string, Json>, doc)}` : ""}
<h4>Responses</h4><ul class="responses">${responses}</ul>
</section>`;
}

/** A server-rendered page of the document: works without JavaScript and loads nothing else. */
export function docsPage(doc: OpenApiDocument): string {
  const info = (doc.info ?? {}) as Json;
  const tags = new Map<string, { description: string; ops: string[]; toc: string[] }>();
  for (const t of (doc.tags ?? []) as Json[])
    tags.set(String(t.name), { description: String(t.description ?? ""), ops: [], toc: [] });
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as unknown as Json | undefined;
      if (!op) continue;
      const tag = String((op.tags as string[] | undefined)?.[0] ?? "Other");
      if (!tags.has(tag)) tags.set(tag, { description: "", ops: [], toc: [] });
      const group = tags.get(tag);
      group?.ops.push(operationBlock(path, method, op, doc));
      group?.toc.push(
        `<li><a href="#${anchor("op", method, path)}"><span class="m m-${method}">${method.toUpperCase()}</span> ${esc(path)}</a></li>`,
      );
    }
  }
  const groups = [...tags.entries()].filter(([, g]) => g.ops.length > 0);
  const toc = groups
    .map(([name, g]) => `<li><a href="#tag-${anchor(name)}">${esc(name)}</a><ul>${g.toc.join("")}</ul></li>`)
    .join("");
  const sections = groups
    .map(
      ([name, g]) =>
        `<h2 id="tag-${anchor(name)}">${esc(name)}</h2><p>${prose(g.description)}</p>${g.ops.join("\n")}`,
    )
    .join("\n");
  const components = (doc.components ?? {}) as Json;
  const schemes = Object.entries((components.securitySchemes ?? {}) as Record<string, Json>)
    .map(
      ([name, s]) =>
        `<li id="security-${anchor(name)}"><code>${esc(name)}</code>: ${esc(s.type)}${s.scheme ? ` ${esc(s.scheme)}` : ""}${
          s.name ? ` (${esc(s.in)} <code>${esc(s.name)}</code>)` : ""
        } ${prose(s.description)}</li>`,
    )
    .join("");
  const schemas = Object.entries((components.schemas ?? {}) as Record<string, Json>)
    .map(([name, schema]) => {
      const { examples, example, ...shape } = schema;
      const exs = example !== undefined ? [example] : Array.isArray(examples) ? examples : [];
      return `<section id="schema-${anchor(name)}" class="schema"><h3>${esc(name)}</h3>${pre(shape)}${exs
        .map((ex) => `<details open><summary>example</summary>${pre(ex)}</details>`)
        .join("")}</section>`;
    })
    .join("\n");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(info.title ?? "API")} API</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#111}
code,pre{background:#f3f3f3;border-radius:4px;padding:.1rem .3rem;font-size:.9em}pre{padding:.75rem;overflow:auto;max-height:28rem}
h2{margin-top:2.5rem;border-bottom:2px solid #ddd}h3{margin-bottom:.25rem}.op{border-top:1px solid #eee;padding-top:.5rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}.m-get{color:#05668d}.m-post{color:#2a7d2e}
.m-patch{color:#a05a00}.m-delete{color:#b00020}.sec{color:#555;font-size:.9em}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}.media{margin:.25rem 0 .5rem}
nav ul{margin:0}summary{cursor:pointer;color:#555}</style>
</head><body>
<h1>${esc(info.title ?? "API")} <small>${esc(info.version ?? "")}</small></h1>
<p>${prose(info.description)}</p>
<p>OpenAPI ${esc(doc.openapi)} document: <a href="/openapi.json">/openapi.json</a>.</p>
<nav><h2>Contents</h2><ul>${toc}<li><a href="#security">Security schemes</a></li><li><a href="#schemas">Schemas</a></li></ul></nav>
<main>
${sections}
<h2 id="security">Security schemes</h2><ul>${schemes}</ul>
<h2 id="schemas">Schemas</h2>
${schemas}
</main></body></html>`;
}
