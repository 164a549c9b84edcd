// WABA status reads, template listing with cursor paging, the per-WABA read budget and read stats.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { control, graph, type Json, PHONE, setupWaba, WABA } from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
});

describe("GET /{waba}", () => {
  it("returns only the requested fields plus id", async () => {
    await setupWaba({ onboarded: true });
    await control("PUT", `/wabas/${WABA}`, { legacyStatus: "ELIGIBLE" });
    const both = await graph(
      "GET",
      `/${WABA}?fields=marketing_messages_onboarding_status,marketing_messages_lite_api_status`,
    );
    expect(both).toEqual({
      status: 200,
      body: {
        marketing_messages_onboarding_status: "ONBOARDED",
        marketing_messages_lite_api_status: "ELIGIBLE",
        id: WABA,
      },
    });
    const one = await graph("GET", `/${WABA}?fields=marketing_messages_onboarding_status`);
    expect(one.body).toEqual({ marketing_messages_onboarding_status: "ONBOARDED", id: WABA });
  });

  it("omits a legacy status that was never set; default onboarding status is ELIGIBLE", async () => {
    await control("PUT", "/wabas/555", {});
    const r = await graph(
      "GET",
      "/555?fields=marketing_messages_onboarding_status,marketing_messages_lite_api_status",
    );
    expect(r.body).toEqual({ marketing_messages_onboarding_status: "ELIGIBLE", id: "555" });
  });

  it("unknown field → 100", async () => {
    await setupWaba();
    const r = await graph("GET", `/${WABA}?fields=marketing_messages_onboarding_status,bogus`);
    expect([r.status, r.body.error.code]).toEqual([400, 100]);
    expect(r.body.error.message).toContain("(bogus)");
  });

  it("counts status queries per WABA and in total", async () => {
    await setupWaba();
    await control("PUT", "/wabas/777", {});
    for (const id of [WABA, WABA, "777"])
      await graph("GET", `/${id}?fields=marketing_messages_onboarding_status`);
    const stats = await control("GET", "/stats");
    expect(stats.statusQueries).toEqual({ total: 3, failed: 0, byWaba: { [WABA]: 2, "777": 1 } });
    expect(stats.templateQueries).toEqual({ total: 0, byWaba: {} });
  });
});

describe("GET /{waba}/message_templates", () => {
  async function manyTemplates(n: number) {
    const templates = Array.from({ length: n }, (_, i) => ({
      name: `t_${String(i).padStart(3, "0")}`,
      language: "pt_BR",
      status: "APPROVED",
      category: i % 2 ? "UTILITY" : "MARKETING",
      bodyText: "Hi {{1}}",
    }));
    await control("PUT", `/wabas/${WABA}`, { templates });
  }

  it("pages with cursors (default limit 25) until next disappears", async () => {
    await manyTemplates(60);
    const names: string[] = [];
    const sizes: number[] = [];
    let path: string | null = `/${WABA}/message_templates?fields=name,status,category,language`;
    while (path) {
      const r: { status: number; body: Json } = await graph("GET", path);
      expect(r.status).toBe(200);
      sizes.push(r.body.data.length);
      names.push(...r.body.data.map((t: Json) => t.name));
      expect(r.body.paging.cursors.before).toEqual(expect.any(String));
      expect(r.body.paging.cursors.after).toEqual(expect.any(String));
      const next: string | undefined = r.body.paging.next;
      if (next) {
        const u = new URL(next);
        expect(u.host).toBe("meta-sim");
        expect(u.pathname).toBe(`/v25.0/${WABA}/message_templates`);
        expect(u.searchParams.get("fields")).toBe("name,status,category,language");
        path = `${u.pathname.replace("/v25.0", "")}${u.search}`;
      } else path = null;
    }
    expect(sizes).toEqual([25, 25, 10]);
    expect(names).toEqual(Array.from({ length: 60 }, (_, i) => `t_${String(i).padStart(3, "0")}`));
    expect((await control("GET", "/stats")).templateQueries).toEqual({ total: 3, byWaba: { [WABA]: 3 } });
  });

  it("honours limit, before cursors and the next link as-is", async () => {
    await manyTemplates(5);
    const p1 = await graph("GET", `/${WABA}/message_templates?limit=2`);
    expect(p1.body.data.map((t: Json) => t.name)).toEqual(["t_000", "t_001"]);
    expect(p1.body.paging.previous).toBeUndefined();
    const res = await env.META_SIM.fetch(p1.body.paging.next, {
      headers: { authorization: "Bearer test-meta-token" },
    });
    const p2 = (await res.json()) as Json;
    expect(p2.data.map((t: Json) => t.name)).toEqual(["t_002", "t_003"]);
    const back = await graph("GET", `/${WABA}/message_templates?limit=2&before=${p2.paging.cursors.before}`);
    expect(back.body.data.map((t: Json) => t.name)).toEqual(["t_000", "t_001"]);
    const last = await graph("GET", `/${WABA}/message_templates?limit=2&after=${p2.paging.cursors.after}`);
    expect(last.body.data.map((t: Json) => t.name)).toEqual(["t_004"]);
    expect(last.body.paging.next).toBeUndefined();
  });

  it("default fields, exact name filter and Meta's template shape", async () => {
    await setupWaba();
    const r = await graph("GET", `/${WABA}/message_templates?name=fall_sale`);
    expect(r.body.data).toHaveLength(1);
    const t = r.body.data[0];
    expect(t).toMatchObject({
      name: "fall_sale",
      language: "pt_BR",
      status: "APPROVED",
      category: "MARKETING",
      parameter_format: "POSITIONAL",
      components: [{ type: "BODY", text: "Oi {{1}}, até {{2}}!" }],
    });
    expect(t.id).toMatch(/^\d{15}$/);
    expect(r.body.paging.next).toBeUndefined();
    const none = await graph("GET", `/${WABA}/message_templates?name=fall`);
    expect(none.body).toEqual({ data: [] });
  });

  it("unknown WABA → 100; bad cursor → 100", async () => {
    await setupWaba();
    expect((await graph("GET", "/4040/message_templates")).body.error.code).toBe(100);
    expect((await graph("GET", `/${WABA}/message_templates?after=zzz`)).body.error.code).toBe(100);
  });
});

describe("per-WABA Graph read limit", () => {
  it("status and template reads share the hourly budget → 80007 beyond it", async () => {
    await setupWaba();
    await control("PUT", `/wabas/${WABA}`, { graphReadsPerHour: 3 });
    const codes: number[] = [];
    for (const path of [
      `/${WABA}?fields=marketing_messages_onboarding_status`,
      `/${WABA}/message_templates`,
      `/${WABA}?fields=marketing_messages_onboarding_status`,
      `/${WABA}/message_templates`,
      `/${WABA}?fields=marketing_messages_onboarding_status`,
    ]) {
      const r = await graph("GET", path);
      codes.push(r.status === 200 ? 0 : r.body.error.code);
    }
    expect(codes).toEqual([0, 0, 0, 80007, 80007]);
    const stats = await control("GET", "/stats");
    expect(stats.graphReadLimited).toBe(2);
    expect(stats.statusQueries).toEqual({ total: 3, failed: 1, byWaba: { [WABA]: 3 } });
  });

  it("the budget is per WABA", async () => {
    await setupWaba();
    await control("PUT", `/wabas/${WABA}`, { graphReadsPerHour: 1 });
    await control("PUT", "/wabas/777", { graphReadsPerHour: 1 });
    expect((await graph("GET", `/${WABA}`)).status).toBe(200);
    expect((await graph("GET", "/777")).status).toBe(200);
    expect((await graph("GET", `/${WABA}`)).body.error.code).toBe(80007);
  });
});

it("GET /{phone_number_id} describes the number", async () => {
  await setupWaba({ throughputMps: 1000 });
  const r = await graph("GET", `/${PHONE}?fields=display_phone_number,throughput`);
  expect(r.body).toEqual({ display_phone_number: "15550783881", throughput: { level: "HIGH" }, id: PHONE });
});
