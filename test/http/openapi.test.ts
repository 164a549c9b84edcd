// The validator: @hyperjump/json-schema (pinned 1.18.0, devDependency), its `openapi-3-1` entry.
// - It validates against the official OAS 3.1 schemas it ships (`.../oas/3.1/schema-base`), which
//   also check every Schema Object against the OAS 3.1 dialect (JSON Schema 2020-12 + the OAS
//   vocabulary) through $dynamicRef — a plain structural check would not.
// - It interprets schemas (no `new Function` / eval), so it runs inside workerd, which forbids code
//   generation in production. (Ajv compiles validators to code; it happens to work in this test
//   pool, which allows eval for Vite, but would not in a deployed Worker, and
//   @seriousme/openapi-schema-validator on top of it also reads its schemas with node:fs.)
// - Actively maintained by a JSON Schema spec author; no network at run time (the OAS schemas
//   and dialects are bundled and registered on import).
import { registerSchema, validate } from "@hyperjump/json-schema/openapi-3-1";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { gw } from "../helpers";

type Json = Record<string, any>;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const SCHEMA_BASE = "https://spec.openapis.org/oas/3.1/schema-base";
const DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base";

async function fetchDoc(): Promise<Json> {
  const res = await gw("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Json;
}

function operations(doc: Json): [string, string, Json][] {
  const ops: [string, string, Json][] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) if (item[method]) ops.push([method, path, item[method]]);
  }
  return ops;
}

/** Hono's `/a/:id` (optionally `:id{regex}`) as OpenAPI's `/a/{id}`. */
function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");
}

describe("OpenAPI 3.1 document", () => {
  it("validates against the official OAS 3.1 schema (with the OAS dialect for schemas)", async () => {
    const doc = await fetchDoc();
    expect(doc.openapi).toBe("3.1.0");
    const out = await validate(SCHEMA_BASE, doc as any, "BASIC");
    expect(out.valid ? [] : out.errors?.slice(0, 10)).toEqual([]);
  });

  it("the validator does refuse broken documents (control)", async () => {
    const doc = await fetchDoc();
    const broken = [
      { ...doc, info: { title: "no version" } },
      { ...doc, paths: { "no-slash": {} } },
      {
        ...doc,
        components: { ...doc.components, schemas: { ...doc.components.schemas, Bad: { type: "texto" } } },
      },
      { ...doc, paths: { "/x": { get: { responses: { "200": { content: {} } } } } } }, // no description
    ];
    for (const d of broken) expect((await validate(SCHEMA_BASE, d as any)).valid).toBe(false);
  });

  it("documents exactly the routes the app registers (route walk, both ways)", async () => {
    const app = createApp();
    const registered = new Set<string>();
    for (const r of app.routes) {
      // Middleware (`use`) shows up as ALL and/or with a wildcard; HEAD is answered by GET.
      if (r.method === "ALL" || r.method === "HEAD" || r.path.includes("*")) continue;
      // The portal's HTML pages are not part of the API and are not documented (src/portal/).
      if (r.path === "/portal" || r.path.startsWith("/portal/")) continue;
      registered.add(`${r.method} ${toOpenApiPath(r.path)}`);
    }
    const doc = await fetchDoc();
    const documented = new Set(operations(doc).map(([m, p]) => `${m.toUpperCase()} ${p}`));
    const undocumented = [...registered].filter((r) => !documented.has(r)).sort();
    const phantom = [...documented].filter((d) => !registered.has(d)).sort();
    expect(undocumented, "registered but not in /openapi.json").toEqual([]);
    expect(phantom, "in /openapi.json but not registered").toEqual([]);
    // The walk is not vacuous: the areas of api.md are there.
    for (const must of [
      "POST /v1/messages",
      "GET /v1/campaigns/{id}",
      "POST /v1/mm-lite/connections",
      "GET /v1/mm-lite/status",
      "PATCH /admin/bots/{id}",
      "GET /healthz",
      "GET /openapi.json",
      "GET /docs",
    ]) {
      expect(documented.has(must), must).toBe(true);
    }
  });

  it("every operation has a summary, tags, problem+json errors and the right security", async () => {
    const doc = await fetchDoc();
    const schemes = Object.keys(doc.components.securitySchemes);
    expect(schemes.sort()).toEqual(["adminBearer", "botKey"]);
    for (const [method, path, op] of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(op.summary, where).toBeTruthy();
      expect(op.tags?.length, where).toBeGreaterThan(0);
      const errors = Object.entries(op.responses as Record<string, Json>).filter(
        ([s]) => s === "default" || Number(s) >= 400,
      );
      expect(errors.length, where).toBeGreaterThan(0);
      for (const [status, response] of errors) {
        expect(Object.keys(response.content ?? {}), `${where} ${status}`).toEqual([
          "application/problem+json",
        ]);
      }
      const security = (op.security ?? []).flatMap((s: Json) => Object.keys(s));
      if (path.startsWith("/v1/") || path === "/commands") {
        expect(security, where).toEqual(["botKey"]);
        expect(op.responses["401"], `${where} documents 401`).toBeDefined();
      } else if (path.startsWith("/admin/")) {
        expect(security, where).toEqual(["adminBearer"]);
        expect(op.responses["401"], `${where} documents 401`).toBeDefined();
      } else {
        expect(security, where).toEqual([]);
      }
      for (const ref of JSON.stringify(op).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
        expect(doc.components.schemas[ref[1] as string], `${where} → ${ref[1]}`).toBeDefined();
      }
    }
    // The MM Lite connection documents its refusals with their extra members.
    const connect = doc.paths["/v1/mm-lite/connections"].post;
    expect(Object.keys(connect.responses).sort()).toEqual(
      ["200", "201", "400", "401", "403", "409", "413", "default"].sort(),
    );
    expect(connect.responses["409"].content["application/problem+json"].example).toMatchObject({
      code: "obo_migration_required",
      wabaIds: expect.any(Array),
    });
  });

  it("every request and response body has an example, and each example matches its schema", async () => {
    const doc = await fetchDoc();
    // One JSON Schema document in the OAS dialect: the components as $defs, each media type's schema
    // beside them, so each example is validated against exactly the schema the document gives it.
    const defs: Json = { ...doc.components.schemas };
    const cases: { where: string; def: string; example: unknown }[] = [];
    let n = 0;
    const add = (where: string, media: Json) => {
      const def = `media_${n++}`;
      defs[def] = media.schema ?? {};
      const examples: unknown[] = [];
      if (media.example !== undefined) examples.push(media.example);
      for (const ex of Object.values((media.examples ?? {}) as Record<string, Json>)) examples.push(ex.value);
      const ref = media.schema?.$ref as string | undefined;
      const target = ref ? doc.components.schemas[ref.split("/").pop() as string] : media.schema;
      if (target?.example !== undefined) examples.push(target.example);
      for (const ex of target?.examples ?? []) examples.push(ex);
      expect(examples.length, `${where} has an example`).toBeGreaterThan(0);
      for (const example of examples) cases.push({ where, def, example });
    };
    for (const [method, path, op] of operations(doc)) {
      for (const [type, media] of Object.entries((op.requestBody?.content ?? {}) as Record<string, Json>)) {
        add(`${method} ${path} request ${type}`, media);
      }
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, Json>)) {
          add(`${method} ${path} ${status} ${type}`, media);
        }
      }
    }
    const id = `https://mmlite.test/examples/${crypto.randomUUID()}`;
    const text = JSON.stringify({ $schema: DIALECT, $id: id, $defs: defs }).replaceAll(
      '"#/components/schemas/',
      '"#/$defs/',
    );
    registerSchema(JSON.parse(text), id);
    const wrong: string[] = [];
    for (const c of cases) {
      // Binary parts (multipart files) are strings in an example.
      const out = await validate(`${id}#/$defs/${c.def}`, c.example as any, "BASIC");
      if (!out.valid) wrong.push(`${c.where}: ${JSON.stringify(out.errors?.slice(0, 3))}`);
    }
    expect(wrong).toEqual([]);
    expect(cases.length).toBeGreaterThan(40);
  });

  it("validates requests with the same schemas it documents", async () => {
    const doc = await fetchDoc();
    const schema = doc.components.schemas.MmLiteConnect;
    expect(schema.required.sort()).toEqual(["adAccountIds", "businessId", "phoneNumberIds", "wabaIds"]);
    expect(schema.properties.adAccountIds.minItems).toBe(1);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe("/docs", () => {
  it("renders every operation, schema and example server-side, with no script or external asset", async () => {
    const res = await gw("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:)?\/\//i);
    const doc = await fetchDoc();
    for (const [method, path] of operations(doc)) {
      expect(html, `${method} ${path}`).toContain(
        `id="op-${`${method}-${path}`
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, "-")
          .replace(/-$/, "")}"`,
      );
    }
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`<h3>${name}</h3>`);
    expect(html).toContain("obo_migration_required");
    expect(html).toContain("&quot;adAccountIds&quot;"); // the request example, escaped
    expect(html).toContain('href="/openapi.json"');
  });
});
