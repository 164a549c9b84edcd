import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { gw, uniqueWaba } from "../helpers";

const body = () => ({ name: "Store", ...uniqueWaba(), businessId: "5060" });

describe("/admin/bots", () => {
  it("creates a bot with defaults and shows the API key once, stored only as a hash", async () => {
    const input = body();
    const res = await gw("/admin/bots", { method: "POST", admin: true, json: input });
    expect(res.status).toBe(201);
    const bot = (await res.json()) as Record<string, unknown>;
    expect(bot).toMatchObject({
      name: "Store",
      wabaId: input.wabaId,
      phoneNumberId: input.phoneNumberId,
      businessId: "5060",
      wabaType: "shared",
      throughputMps: 80,
      mmLiteRestricted: false,
    });
    expect(bot.id).toMatch(/^bot_/);
    expect(bot.apiKey).toMatch(/^mmk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);

    const row = await env.DB.prepare("SELECT * FROM bots WHERE id = ?")
      .bind(bot.id)
      .first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(bot.apiKey as string);
    expect(row?.key_hash).toMatch(/^[0-9a-f]{64}$/);

    const got = await gw(`/admin/bots/${bot.id}`, { admin: true });
    expect(got.status).toBe(200);
    const view = (await got.json()) as Record<string, unknown>;
    expect(view).not.toHaveProperty("apiKey");
    expect(JSON.stringify(view)).not.toContain(bot.apiKey as string);
  });

  it("keeps given options and patches restriction and throughput", async () => {
    const res = await gw("/admin/bots", {
      method: "POST",
      admin: true,
      json: { ...body(), wabaType: "obo", throughputMps: 200, mmLiteRestricted: true },
    });
    const bot = (await res.json()) as { id: string };
    expect(bot).toMatchObject({ wabaType: "obo", throughputMps: 200, mmLiteRestricted: true });

    const patched = await gw(`/admin/bots/${bot.id}`, {
      method: "PATCH",
      admin: true,
      json: { throughputMps: 1000 },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ throughputMps: 1000, mmLiteRestricted: true });
    const again = await gw(`/admin/bots/${bot.id}`, {
      method: "PATCH",
      admin: true,
      json: { mmLiteRestricted: false },
    });
    expect(await again.json()).toMatchObject({ throughputMps: 1000, mmLiteRestricted: false });
  });

  it("refuses bad bodies with invalid_request and the failing paths", async () => {
    const cases: [unknown, string][] = [
      [{ ...body(), throughputMps: 1001 }, "throughputMps"],
      [{ ...body(), throughputMps: 0 }, "throughputMps"],
      [{ ...body(), wabaType: "other" }, "wabaType"],
      [{ ...body(), wabaId: "12/../3" }, "wabaId"],
      [{ ...body(), extra: 1 }, ""],
      [{ name: "x" }, "wabaId"],
    ];
    for (const [json, path] of cases) {
      const res = await gw("/admin/bots", { method: "POST", admin: true, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await res.json()) as { code: string; errors: { path: string }[] };
      expect(problem.code).toBe("invalid_request");
      expect(problem.errors.map((e) => e.path)).toContain(path);
    }
    const empty = await gw("/admin/bots/bot_x", { method: "PATCH", admin: true, json: {} });
    expect(empty.status).toBe(400);
  });

  it("answers malformed JSON with invalid_json", async () => {
    const res = await gw("/admin/bots", {
      method: "POST",
      admin: true,
      headers: { "content-type": "application/json" },
      body: '{"name":',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_json", status: 400, type: "about:blank" });
  });

  it("requires the admin token", async () => {
    for (const authorization of [undefined, "Bearer wrong-token", "Key test-admin-token", "Bearer"]) {
      const res = await gw("/admin/bots", {
        method: "POST",
        json: body(),
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: "unauthorized" });
    }
  });

  it("404s an unknown bot", async () => {
    const res = await gw("/admin/bots/bot_nope", { admin: true });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "not_found" });
  });
});
