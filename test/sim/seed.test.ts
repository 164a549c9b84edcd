// Fixture seeding: POST /_sim/seed (the same code SIM_SEED runs at start-up) and the start-up plan for
// SIM_SEED / SIM_AUTO_WEBHOOKS. The pool sets neither var, so a fresh simulator here must be empty.
import { beforeEach, describe, expect, it } from "vitest";
import { BootConfigError, planBoot } from "../../sim/src/boot";
import { control, graph, sim, templateSend } from "./helpers";

const ONBOARDED = { waba: "102290129340398", phone: "106540352242922" };
const ELIGIBLE = { waba: "102290129340399", phone: "106540352242923" };
const sale = () => templateSend("fall_sale", ["Ana", "15/08"]);

describe("without SIM_SEED", () => {
  // First test of the file: storage is fresh and nothing has reset it yet.
  it("the simulator starts empty", async () => {
    expect((await sim(`/_sim/wabas/${ONBOARDED.waba}`)).status).toBe(404);
    expect((await graph("POST", `/${ONBOARDED.phone}/messages`, sale())).body.error.code).toBe(100);
    expect(await control("GET", "/auto-webhooks")).toMatchObject({ enabled: false });
  });
});

describe("POST /_sim/seed", () => {
  beforeEach(async () => {
    await control("POST", "/reset");
  });

  it("demo: two WABAs of business 5060 with the same five templates", async () => {
    const r = await control("POST", "/seed", { name: "demo" });
    expect(r.seed).toBe("demo");
    expect(r.wabas.map((w: { id: string }) => w.id)).toEqual([ONBOARDED.waba, ELIGIBLE.waba]);
    const [a, b] = r.wabas;
    expect(a).toMatchObject({ onboardingStatus: "ONBOARDED", legacyStatus: null, ownerBusinessId: "5060" });
    expect(b).toMatchObject({ onboardingStatus: "ELIGIBLE", legacyStatus: null, ownerBusinessId: "5060" });
    expect(a.phoneNumbers).toEqual([
      {
        id: ONBOARDED.phone,
        wabaId: ONBOARDED.waba,
        displayPhoneNumber: "15550783881",
        throughputMps: 1000,
        httpStatusOnThrottle: 400,
      },
    ]);
    expect(b.phoneNumbers.map((n: { id: string }) => n.id)).toEqual([ELIGIBLE.phone]);
    const shape = (t: Record<string, unknown>) => [
      t.name,
      t.language,
      t.category,
      t.status,
      (t.components as { text: string }[])[0]?.text,
    ];
    const expected = [
      ["fall_sale", "pt_BR", "MARKETING", "APPROVED", "Olá {{1}}, a liquidação vai até {{2}}!"],
      ["fall_sale", "en_US", "MARKETING", "APPROVED", "Hi {{1}}, the sale runs until {{2}}!"],
      ["order_update", "pt_BR", "UTILITY", "APPROVED", "Pedido {{1}} enviado"],
      ["login_code", "en_US", "AUTHENTICATION", "APPROVED", "Your code is {{1}}"],
      ["winter_sale", "pt_BR", "MARKETING", "PENDING", "Oi {{1}}"],
    ];
    expect(a.templates.map(shape)).toEqual(expected);
    expect(b.templates.map(shape)).toEqual(expected);
    // Template ids are fixed, and unique across the two WABAs.
    const ids = [...a.templates, ...b.templates].map((t: { id: string }) => t.id);
    expect(new Set(ids).size).toBe(10);
  });

  it("is idempotent: seeding again, or after a reset, gives the same state", async () => {
    const first = await control("POST", "/seed", { name: "demo" });
    const again = await control("POST", "/seed", { name: "demo" });
    expect(again).toEqual(first);
    await control("POST", "/reset");
    expect(await control("POST", "/seed")).toEqual(first); // name defaults to "demo"
  });

  it("restores changed fixtures but keeps what else was configured", async () => {
    await control("POST", "/seed", { name: "demo" });
    await control("PUT", `/wabas/${ONBOARDED.waba}/templates/winter_sale/pt_BR`, { status: "APPROVED" });
    await control("PUT", `/wabas/${ONBOARDED.waba}`, {
      templates: [{ name: "extra", language: "pt_BR", status: "APPROVED", category: "UTILITY" }],
    });
    const r = await control("POST", "/seed", { name: "demo" });
    const templates = r.wabas[0].templates.map((t: { name: string; status: string }) => [t.name, t.status]);
    expect(templates).toContainEqual(["winter_sale", "PENDING"]);
    expect(templates).toContainEqual(["extra", "APPROVED"]);
  });

  it("a reset empties a seeded simulator", async () => {
    await control("POST", "/seed", { name: "demo" });
    await control("POST", "/reset");
    expect((await sim(`/_sim/wabas/${ONBOARDED.waba}`)).status).toBe(404);
    expect((await sim(`/_sim/wabas/${ELIGIBLE.waba}`)).status).toBe(404);
  });

  it("rejects an unknown seed name with the issues", async () => {
    const res = await sim("/_sim/seed", { method: "POST", json: { name: "nope" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid body");
  });

  it("the demo WABAs answer Graph reads like Meta", async () => {
    await control("POST", "/seed", { name: "demo" });
    const fields = "marketing_messages_onboarding_status,owner_business_info";
    const a = await graph("GET", `/${ONBOARDED.waba}?fields=${fields}`);
    expect(a.body).toMatchObject({ id: ONBOARDED.waba, marketing_messages_onboarding_status: "ONBOARDED" });
    expect(JSON.stringify(a.body.owner_business_info)).toContain("5060");
    const b = await graph("GET", `/${ELIGIBLE.waba}?fields=${fields}`);
    expect(b.body.marketing_messages_onboarding_status).toBe("ELIGIBLE");
    const t = await graph("GET", `/${ONBOARDED.waba}/message_templates?name=fall_sale&language=en_US`);
    expect(t.body.data).toHaveLength(1);
    expect(t.body.data[0]).toMatchObject({ name: "fall_sale", language: "en_US", status: "APPROVED" });
    const n = await graph("GET", `/${ONBOARDED.phone}?fields=display_phone_number,throughput`);
    expect(n.body).toMatchObject({ display_phone_number: "15550783881", throughput: { level: "HIGH" } });
  });

  it("sends take both routes: MM Lite on the onboarded WABA, fallback to the Cloud API on the other", async () => {
    await control("POST", "/seed", { name: "demo" });
    const mm = await graph("POST", `/${ONBOARDED.phone}/marketing_messages`, sale());
    expect(mm.status).toBe(200);
    const fallback = await graph("POST", `/${ELIGIBLE.phone}/marketing_messages`, sale());
    expect(fallback.status).toBe(200);
    const cloud = await graph("POST", `/${ELIGIBLE.phone}/messages`, templateSend("order_update", ["#42"]));
    expect(cloud.status).toBe(200);
    const { messages } = await control("GET", "/messages");
    expect(
      messages.map((m: { phoneNumberId: string; product: string }) => [m.phoneNumberId, m.product]),
    ).toEqual(
      expect.arrayContaining([
        [ONBOARDED.phone, "mm_lite"],
        [ELIGIBLE.phone, "cloud_api"],
        [ELIGIBLE.phone, "cloud_api"],
      ]),
    );
    // The PENDING template and MM Lite's marketing-only rule behave as on any WABA.
    const pending = await graph("POST", `/${ONBOARDED.phone}/messages`, templateSend("winter_sale", ["Ana"]));
    expect(pending.body.error.code).toBe(132001);
    const auth = templateSend("login_code", ["123456"], {}, "en_US");
    expect((await graph("POST", `/${ONBOARDED.phone}/marketing_messages`, auth)).body.error.code).toBe(
      134100,
    );
  });
});

describe("start-up plan (SIM_SEED / SIM_AUTO_WEBHOOKS)", () => {
  const AUTO = { enabled: true, deliveredRate: 0.95, readRate: 0.4, failedRate: 0.03, delayMs: 1500 };

  it("unset or empty vars apply nothing", () => {
    expect(planBoot({}, null)).toEqual({ seed: null, autoWebhooks: null, marker: null });
    expect(planBoot({ SIM_SEED: "", SIM_AUTO_WEBHOOKS: " " }, null)).toEqual({
      seed: null,
      autoWebhooks: null,
      marker: null,
    });
  });

  it("applies each value once per storage", () => {
    const vars = { SIM_SEED: "demo", SIM_AUTO_WEBHOOKS: JSON.stringify(AUTO) };
    const first = planBoot(vars, null);
    expect(first.seed).toBe("demo");
    expect(first.autoWebhooks).toMatchObject(AUTO);
    expect(first.marker).toEqual({ seed: "demo", autoWebhooks: JSON.stringify(AUTO) });
    // Restart with the same vars: nothing to do.
    expect(planBoot(vars, first.marker)).toEqual({ seed: null, autoWebhooks: null, marker: null });
    // Only the changed var is applied; a cleared SIM_AUTO_WEBHOOKS turns the emitter off.
    const cleared = planBoot({ SIM_SEED: "demo", SIM_AUTO_WEBHOOKS: "" }, first.marker);
    expect(cleared.seed).toBeNull();
    expect(cleared.autoWebhooks).toMatchObject({ enabled: false });
    expect(cleared.marker).toEqual({ seed: "demo", autoWebhooks: "" });
    // A reset records the current values (empty simulator until POST /_sim/seed).
    expect(planBoot(vars, { seed: "demo", autoWebhooks: JSON.stringify(AUTO) }).marker).toBeNull();
  });

  it("SIM_AUTO_WEBHOOKS installs exactly what PUT /_sim/auto-webhooks installs", async () => {
    await control("POST", "/reset");
    const put = await control("PUT", "/auto-webhooks", AUTO);
    expect(planBoot({ SIM_AUTO_WEBHOOKS: JSON.stringify(AUTO) }, null).autoWebhooks).toEqual(put);
  });

  it("bad values fail loudly", () => {
    expect(() => planBoot({ SIM_SEED: "demo2" }, null)).toThrow(BootConfigError);
    expect(() => planBoot({ SIM_SEED: "demo2" }, null)).toThrow(
      /SIM_SEED "demo2" is not a seed; use one of demo/,
    );
    expect(() => planBoot({ SIM_AUTO_WEBHOOKS: "{enabled:true}" }, null)).toThrow(
      /SIM_AUTO_WEBHOOKS is not JSON/,
    );
    expect(() => planBoot({ SIM_AUTO_WEBHOOKS: '{"enabled":true,"readRate":2}' }, null)).toThrow(
      /SIM_AUTO_WEBHOOKS is not a valid auto-webhooks body/,
    );
    // Validated even when unchanged, so a bad var never goes unnoticed.
    expect(() => planBoot({ SIM_SEED: "x" }, { seed: "x", autoWebhooks: "" })).toThrow(BootConfigError);
  });
});
