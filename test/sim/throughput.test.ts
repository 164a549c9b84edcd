// Per-number throughput: a sliding one-second window of arrivals; over the cap → 130429, not accepted.
import { beforeEach, expect, it } from "vitest";
import { control, graph, PHONE, setupWaba, sim, templateSend, WABA } from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
});

const send = () => graph("POST", `/${PHONE}/messages`, templateSend("fall_sale", ["Ana", "15/08"]));

it("120 concurrent sends at the default cap of 80 → exactly 80 accepted, 40 × 130429", async () => {
  await setupWaba();
  const t0 = Date.now();
  const results = await Promise.all(Array.from({ length: 120 }, send));
  // The assertion below only means something if the burst fit in one window.
  expect(Date.now() - t0).toBeLessThan(1000);
  const accepted = results.filter((r) => r.status === 200);
  const throttled = results.filter((r) => r.body.error?.code === 130429);
  expect(accepted).toHaveLength(80);
  expect(throttled).toHaveLength(40);
  expect(throttled[0]?.status).toBe(400);
  expect(throttled[0]?.body.error.message).toBe("(#130429) Rate limit hit");
  expect(throttled[0]?.body.error.error_subcode).toBe(2494055);

  const stats = await control("GET", "/stats");
  expect(stats.accepted).toBe(80);
  expect(stats.throttled).toBe(40);
  expect(stats.numbers[PHONE]).toMatchObject({
    throughputMps: 80,
    accepted: 80,
    throttled: 40,
    maxInAnySecond: 80,
  });
  expect(stats.sends.send_cloud).toEqual({
    total: 120,
    accepted: 80,
    rejected: { "130429": 40 },
    dropped: 0,
  });
  expect((await control("GET", "/messages")).count).toBe(80);
});

it("the cap is settable per number, with 429 instead of 400 if asked; the window slides", async () => {
  await setupWaba();
  const n = await control("PUT", `/numbers/${PHONE}`, { throughputMps: 5, httpStatusOnThrottle: 429 });
  expect(n).toMatchObject({ id: PHONE, wabaId: WABA, throughputMps: 5, httpStatusOnThrottle: 429 });
  const first = await Promise.all(Array.from({ length: 8 }, send));
  expect(first.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  expect(first.find((r) => r.status === 429)?.body.error.code).toBe(130429);
  // Throttled arrivals are not recorded, so one second after the accepted ones the window is empty.
  await new Promise((r) => setTimeout(r, 1100));
  const second = await Promise.all(Array.from({ length: 5 }, send));
  expect(second.every((r) => r.status === 200)).toBe(true);
  const stats = await control("GET", "/stats");
  expect(stats.numbers[PHONE].maxInAnySecond).toBe(5);
  expect(stats.numbers[PHONE].accepted).toBe(10);
});

it("numbers are independent", async () => {
  await setupWaba({ throughputMps: 3 });
  await control("PUT", `/wabas/${WABA}`, { phoneNumbers: [{ id: "200000000000001", throughputMps: 3 }] });
  const other = () => graph("POST", "/200000000000001/messages", templateSend("fall_sale", ["a", "b"]));
  const rs = await Promise.all([...Array.from({ length: 4 }, send), ...Array.from({ length: 4 }, other)]);
  expect(rs.filter((r) => r.status === 200)).toHaveLength(6);
  const stats = await control("GET", "/stats");
  expect(stats.numbers[PHONE].maxInAnySecond).toBe(3);
  expect(stats.numbers["200000000000001"].maxInAnySecond).toBe(3);
});

it("PUT /_sim/numbers for an unknown number → 404", async () => {
  expect((await sim("/_sim/numbers/1", { method: "PUT", json: { throughputMps: 5 } })).status).toBe(404);
});
