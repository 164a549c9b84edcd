import { describe, expect, it } from "vitest";
import { gw } from "../helpers";

describe("health, errors and OpenAPI", () => {
  it("answers /healthz", async () => {
    const res = await gw("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers unknown paths with a problem+json 404", async () => {
    const res = await gw("/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ type: "about:blank", status: 404, code: "not_found" });
  });

  it("answers a known path with another method with 405 and Allow", async () => {
    const cases: [string, string, string][] = [
      ["DELETE", "/v1/messages", "POST"],
      ["PUT", "/v1/messages/msg_1", "GET, HEAD"],
      ["POST", "/healthz", "GET, HEAD"],
      ["DELETE", "/admin/bots/bot_1", "GET, HEAD, PATCH"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await gw(path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(await res.json()).toMatchObject({ code: "method_not_allowed", status: 405 });
    }
  });

  it("serves an OpenAPI 3.1 document of what exists", async () => {
    const res = await gw("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/admin/bots",
      "/admin/bots/{id}",
      "/commands",
      "/docs",
      "/healthz",
      "/openapi.json",
      "/v1/campaigns",
      "/v1/campaigns/{id}",
      "/v1/campaigns/{id}/cancel",
      "/v1/campaigns/{id}/report.csv",
      "/v1/messages",
      "/v1/messages/{id}",
      "/v1/mm-lite/connections",
      "/v1/mm-lite/status",
      "/webhooks/meta",
    ]);
    expect(Object.keys(doc.paths["/v1/campaigns"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/admin/bots/{id}"] ?? {}).sort()).toEqual(["get", "patch"]);
    const docs = await gw("/docs");
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("/openapi.json");
  });

  it("refuses a body over the limit with 413 payload_too_large", async () => {
    const big = "x".repeat(10 * 1024 * 1024 + 1);
    const res = await gw("/v1/messages", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Key nope" },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
  });
});
