import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context";

export const openApiConfig = {
  openapi: "3.1.0",
  info: {
    title: "mmlite-gateway",
    version: "0.1.0",
    description:
      "Edge gateway for WhatsApp active messages. Marketing templates go through Meta's Marketing " +
      "Messages Lite API whenever the WABA is onboarded, otherwise through the Cloud API. Every error " +
      "is `application/problem+json` with a machine-readable `code`.",
  },
  servers: [{ url: "/" }],
};

export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "botKey", {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description: "`Key <apiKey>` (or `Bearer <apiKey>`)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", {
    type: "http",
    scheme: "bearer",
    description: "`Bearer <ADMIN_TOKEN>`",
  });
}

/** A dependency-free page that lists the OpenAPI document's operations (no external assets). */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>mmlite-gateway API</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
code,pre{background:#f3f3f3;border-radius:4px;padding:.1rem .3rem}pre{padding:.75rem;overflow:auto}
h2{margin-top:2rem;border-bottom:1px solid #ddd}.m{font-weight:700;text-transform:uppercase;margin-right:.5rem}</style>
</head><body><h1>mmlite-gateway API</h1><p>The machine-readable document is at <a href="/openapi.json">/openapi.json</a>.</p>
<main id="ops"><noscript>Enable JavaScript to render the operations, or read /openapi.json.</noscript></main>
<script>
fetch("/openapi.json").then(r=>r.json()).then(doc=>{
  const ops=document.getElementById("ops");ops.textContent="";
  for(const [path,item] of Object.entries(doc.paths||{})){
    for(const [method,op] of Object.entries(item)){
      const s=document.createElement("section");
      const h=document.createElement("h2");
      const m=document.createElement("span");m.className="m";m.textContent=method;
      const p=document.createElement("code");p.textContent=path;
      h.append(m,p);s.append(h);
      const d=document.createElement("p");d.textContent=op.summary||"";s.append(d);
      const pre=document.createElement("pre");pre.textContent=JSON.stringify({requestBody:op.requestBody,responses:Object.keys(op.responses||{})},null,2);
      s.append(pre);ops.append(s);
    }
  }
});
</script></body></html>`;
}
