// Fault injection: probabilistic and next-N errors, scoping, timeouts / drops, latency, status outage.
import { beforeEach, describe, expect, it } from "vitest";
import { control, graph, PHONE, setupWaba, sim, templateSend, WABA } from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
  await setupWaba({ onboarded: true });
});

const body = templateSend("fall_sale", ["Ana", "15/08"]);
const cloud = () => graph("POST", `/${PHONE}/messages`, body);
const mm = () => graph("POST", `/${PHONE}/marketing_messages`, body);
const status = () => graph("GET", `/${WABA}?fields=marketing_messages_onboarding_status`);

describe("error faults", () => {
  it.each([
    [1, 500],
    [2, 500],
    [131000, 500],
    [130429, 400],
    [131055, 400],
    [134100, 400],
    [134101, 400],
    [134102, 400],
    [131049, 400],
    [131026, 400],
    [131050, 400],
    [132001, 400],
  ])("probability 1.0, code %i → HTTP %i, nothing accepted", async (code, http) => {
    await control("PUT", "/faults", { rules: [{ code, probability: 1 }] });
    const r = await mm();
    expect(r.status).toBe(http);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe("string");
    const stats = await control("GET", "/stats");
    expect(stats.accepted).toBe(0);
    expect(stats.faultsInjected).toEqual({ [code]: 1 });
    expect(stats.sends.send_mm_lite.rejected).toEqual({ [code]: 1 });
  });

  it("next-N: exactly N requests fail, then normal service resumes", async () => {
    await control("PUT", "/faults", { rules: [{ code: 131000, count: 2 }] });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await cloud()).body.error?.code ?? 0);
    expect(codes).toEqual([131000, 131000, 0, 0]);
    const faults = await control("GET", "/faults");
    expect(faults.rules[0]).toMatchObject({ remaining: 0, fired: 2 });
  });

  it("next-N counts across numbers exactly", async () => {
    await control("PUT", `/wabas/${WABA}`, { phoneNumbers: [{ id: "200000000000001" }] });
    await control("PUT", "/faults", { rules: [{ code: 2, count: 3 }] });
    const other = () => graph("POST", "/200000000000001/messages", body);
    const rs = await Promise.all([cloud(), other(), cloud(), other(), cloud(), other()]);
    expect(rs.filter((r) => r.body.error?.code === 2)).toHaveLength(3);
    expect(rs.filter((r) => r.status === 200)).toHaveLength(3);
  });

  it("scoped by endpoint and by phone number / WABA", async () => {
    await control("PUT", "/faults", {
      rules: [
        { code: 134101, endpoint: "send_mm_lite" },
        { code: 131000, endpoint: ["send_cloud"], phoneNumberId: "someone-else" },
        { code: 1, endpoint: "templates", wabaId: WABA },
      ],
    });
    expect((await mm()).body.error.code).toBe(134101);
    expect((await cloud()).status).toBe(200);
    expect((await status()).status).toBe(200);
    const t = await graph("GET", `/${WABA}/message_templates`);
    expect([t.status, t.body.error.code]).toEqual([500, 1]);
  });

  it("injected 130429 follows the number's throttle status; explicit httpStatus wins", async () => {
    await control("PUT", `/numbers/${PHONE}`, { httpStatusOnThrottle: 429 });
    await control("PUT", "/faults", {
      rules: [
        { code: 130429, count: 1 },
        { code: 131000, httpStatus: 503 },
      ],
    });
    const a = await cloud();
    expect([a.status, a.body.error.code]).toEqual([429, 130429]);
    const b = await cloud();
    expect([b.status, b.body.error.code]).toEqual([503, 131000]);
  });

  it("a seeded probability replays the same pattern", async () => {
    const run = async () => {
      await control("PUT", "/faults", { rules: [{ code: 131000, probability: 0.5 }], seed: 42 });
      const out = [];
      for (let i = 0; i < 16; i++) out.push((await cloud()).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(200);
    expect(a).toContain(500);
  });

  it("DELETE /_sim/faults clears every rule", async () => {
    await control("PUT", "/faults", {
      rules: [{ code: 131000 }],
      sendLatencyMs: 5,
      wabaStatusUnavailable: true,
    });
    const cleared = await control("DELETE", "/faults");
    expect(cleared).toEqual({ rules: [], sendLatencyMs: 0, wabaStatusUnavailable: null });
    expect((await cloud()).status).toBe(200);
    expect((await status()).status).toBe(200);
  });

  it("a rule needs exactly one of code / timeoutMs", async () => {
    expect((await sim("/_sim/faults", { method: "PUT", json: { rules: [{}] } })).status).toBe(400);
    expect(
      (await sim("/_sim/faults", { method: "PUT", json: { rules: [{ code: 1, timeoutMs: 5 }] } })).status,
    ).toBe(400);
  });
});

describe("WABA status outage", () => {
  it("wabaStatusUnavailable makes status reads fail with 5xx (default 500 / code 2)", async () => {
    await control("PUT", "/faults", { wabaStatusUnavailable: true });
    const r = await status();
    expect([r.status, r.body.error.code]).toEqual([500, 2]);
    await control("PUT", "/faults", { wabaStatusUnavailable: { httpStatus: 503, code: 1 } });
    const s = await status();
    expect([s.status, s.body.error.code]).toEqual([503, 1]);
    // Sends are unaffected.
    expect((await mm()).status).toBe(200);
    expect((await control("GET", "/stats")).statusQueries).toEqual({
      total: 2,
      failed: 2,
      byWaba: { [WABA]: 2 },
    });
  });
});

describe("timeouts and latency", () => {
  it("timeout fault: answers late (and the send is accepted)", async () => {
    await control("PUT", "/faults", { rules: [{ timeoutMs: 300, count: 1 }] });
    const t0 = Date.now();
    const r = await cloud();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(r.status).toBe(200);
  });

  it("timeout fault with drop: the caller's fetch fails and nothing is accepted", async () => {
    await control("PUT", "/faults", { rules: [{ timeoutMs: 20, drop: true, count: 1 }] });
    await expect(cloud()).rejects.toThrow();
    const stats = await control("GET", "/stats");
    expect(stats.accepted).toBe(0);
    expect(stats.sends.send_cloud.dropped).toBe(1);
  });

  it("drop with acceptBeforeDrop: Meta accepted it, the caller never heard", async () => {
    await control("PUT", "/faults", {
      rules: [{ timeoutMs: 0, drop: true, acceptBeforeDrop: true, count: 1 }],
    });
    await expect(cloud()).rejects.toThrow();
    expect((await control("GET", "/messages")).count).toBe(1);
  });

  it("sendLatencyMs delays every send answer but not control calls", async () => {
    await control("PUT", "/faults", { sendLatencyMs: 200 });
    const t0 = Date.now();
    const rs = await Promise.all([cloud(), mm()]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
  });
});
