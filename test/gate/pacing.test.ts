import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  grant,
  grantOrDefer,
  INITIAL_PACING,
  intervalFor,
  MAX_SLOT_WAIT_MS,
  MIN_RECHECK_MS,
  PACING_HEADROOM,
  releasePlan,
  SLOWDOWN_MS,
  throttled,
} from "../../src/gate/pacing";
import type { WabaGate } from "../../src/gate/waba-gate";
import type { QueueJob } from "../../src/sending/jobs";
import { gw, setupBot, sim } from "../helpers";

/** Expand grants into individual slot times. */
function slotsOf(grants: { startAt: number; intervalMs: number; count: number }[]): number[] {
  return grants.flatMap((g) => Array.from({ length: g.count }, (_, i) => g.startAt + i * g.intervalMs));
}

function maxInAnySecond(slots: number[]): number {
  const sorted = [...slots].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe("pacing (pure)", () => {
  it("never puts more than the cap in any one-second window, whatever the block sizes and arrival times", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.array(
          fc.record({ gapMs: fc.integer({ min: 0, max: 2000 }), count: fc.integer({ min: 1, max: 300 }) }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        (mps, requests) => {
          let state = INITIAL_PACING;
          let now = 1_000_000;
          const grants = [];
          for (const r of requests) {
            now += r.gapMs;
            const [next, g] = grant(state, now, mps, r.count);
            expect(g.startAt).toBeGreaterThanOrEqual(now);
            state = next;
            grants.push(g);
          }
          expect(maxInAnySecond(slotsOf(grants))).toBeLessThanOrEqual(mps);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("uses the rate: a long backlog runs at the cap less the headroom", () => {
    const [, g] = grant(INITIAL_PACING, 0, 80, 8000);
    const seconds = (g.count * g.intervalMs) / 1000;
    expect(g.count / seconds).toBeCloseTo(80 * PACING_HEADROOM, 5);
    expect(intervalFor(1000, false)).toBeCloseTo(1.025, 9);
  });

  it("a throttle answer pauses the number and halves its rate for a while", () => {
    const now = 50_000;
    const slowed = throttled(INITIAL_PACING, now, 2_000);
    const [, during] = grant(slowed, now, 100, 10);
    expect(during.startAt).toBe(now + 2_000);
    expect(during.intervalMs).toBeCloseTo(2 * intervalFor(100, false), 9);
    const [, after] = grant(slowed, now + SLOWDOWN_MS + 1, 100, 10);
    expect(after.intervalMs).toBeCloseTo(intervalFor(100, false), 9);
  });
});

describe("parking (pure)", () => {
  it("defers only a job that would wait longer than allowed, and reserves nothing for it", () => {
    const now = 1_000_000;
    const booked = { ...INITIAL_PACING, nextSlotAt: now + MAX_SLOT_WAIT_MS + 1 };
    expect(grantOrDefer(booked, now, 80, 80)).toEqual([booked, { deferred: true }]);
    const [next, g] = grantOrDefer({ ...booked, nextSlotAt: now + MAX_SLOT_WAIT_MS }, now, 80, 80);
    expect(g).toMatchObject({ startAt: now + MAX_SLOT_WAIT_MS, count: 80 });
    expect(next.nextSlotAt).toBeGreaterThan(now + MAX_SLOT_WAIT_MS);
  });

  it("releases the oldest jobs once the booking is down to half the wait, only as many as fit, and says when to look again", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: -5_000, max: 60_000 }),
        fc.array(fc.integer({ min: 1, max: 2000 }), { minLength: 1, maxLength: 50 }),
        (mps, aheadMs, counts) => {
          const now = 5_000_000;
          const state = { ...INITIAL_PACING, nextSlotAt: now + aheadMs };
          const parked = counts.map((count) => ({ count, mps }));
          const { release, recheckAt } = releasePlan(state, now, parked);
          const interval = intervalFor(mps, false);
          const ahead = Math.max(0, aheadMs);
          if (ahead > MAX_SLOT_WAIT_MS / 2) expect(release).toBe(0);
          else expect(release).toBeGreaterThanOrEqual(1);
          // Beyond the first job, what is released fits in the allowed wait.
          const planned = counts.slice(0, release).reduce((sum, c) => sum + c * interval, ahead);
          if (release > 1) expect(planned).toBeLessThanOrEqual(MAX_SLOT_WAIT_MS + 1e-6);
          if (release === parked.length) expect(recheckAt).toBeNull();
          else {
            expect(recheckAt).toBeGreaterThanOrEqual(now + MIN_RECHECK_MS);
            // Looked at again when the released work has run down to half the wait.
            expect(recheckAt).toBeCloseTo(
              Math.max(now + MIN_RECHECK_MS, now + planned - MAX_SLOT_WAIT_MS / 2),
              6,
            );
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("WabaGate pacing (Durable Object)", () => {
  it("grants consecutive blocks without overlap, per phone number", async () => {
    const stub = env.WABA_GATE.get(env.WABA_GATE.idFromName("pacing-waba"));
    const a = await stub.acquire("p1", 100, 50);
    const b = await stub.acquire("p1", 100, 50);
    const other = await stub.acquire("p2", 100, 1);
    expect(b.startAt).toBeCloseTo(a.startAt + 50 * a.intervalMs, 6);
    expect(other.startAt).toBeLessThan(b.startAt);
    // Within a bound: nothing is booked when the slots would start too late.
    expect(await stub.acquireWithin("p1", 100, 10, 0)).toBeNull();
    const within = await stub.acquireWithin("p1", 100, 10, 60_000);
    expect(within?.startAt).toBeCloseTo(b.startAt + 50 * b.intervalMs, 6);
    const after = await stub.acquire("p1", 100, 50);
    expect(after.startAt).toBeCloseTo(b.startAt + 60 * b.intervalMs, 6);
    await stub.reportThrottle("p1", 3_000);
    const c = await stub.acquire("p1", 100, 1);
    expect(c.startAt).toBeGreaterThanOrEqual(after.startAt + 50 * after.intervalMs);
    expect(c.intervalMs).toBeCloseTo(2 * a.intervalMs, 6);
  });
});

describe("WabaGate parking and alarms (Durable Object)", () => {
  const gate = (wabaId: string) => env.WABA_GATE.get(env.WABA_GATE.idFromName(wabaId));
  const storedPace = (stub: DurableObjectStub<WabaGate>, phone: string) =>
    runInDurableObject(stub, (_: WabaGate, state: DurableObjectState) =>
      state.storage.sql
        .exec<{ next_slot_at: number }>("SELECT next_slot_at FROM pacing WHERE phone_number_id = ?", phone)
        .toArray(),
    );

  it("keeps the schedule in storage: a restarted object never hands out slots it already gave", async () => {
    const stub = gate("pacing-restart-waba");
    const a = await stub.acquire("p1", 100, 100);
    expect(await storedPace(stub, "p1")).toEqual([{ next_slot_at: a.startAt + 100 * a.intervalMs }]);
    // Forget everything held in memory, as an eviction would.
    await runInDurableObject(stub, (instance: WabaGate) => {
      (instance as unknown as { pacing: Map<string, unknown> }).pacing.clear();
    });
    const b = await stub.acquire("p1", 100, 1);
    expect(b.startAt).toBeCloseTo(a.startAt + 100 * a.intervalMs, 6);
  });

  it("parks a job booked too far ahead; its alarm re-enqueues it once the number has room, and it is sent", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE", throughputMps: 80 });
    // Book the number 20 s ahead before the message's job can reach it (the send queue delivers
    // at once: max_batch_timeout = 0).
    const stub = gate(bot.wabaId);
    const bookedAt = Date.now();
    await stub.acquire(bot.phoneNumberId, 80, 80 * 20);
    const res = await gw("/v1/messages", {
      method: "POST",
      key: bot.apiKey,
      json: {
        to: "+55 11 99999-0042",
        template: { name: "order_update", language: "pt_BR", params: ["A-1"] },
      },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    // An individual send goes through the same queue job as a campaign; wait for it to park
    // (the consumer acked it without sending).
    let parked: Record<string, number> = {};
    for (let i = 0; i < 100 && !parked[bot.phoneNumberId]; i++) {
      await new Promise((r) => setTimeout(r, 100));
      parked = await stub.parkedJobs();
    }
    expect(parked).toEqual({ [bot.phoneNumberId]: 1 });
    const alarmAt = await runInDurableObject(stub, (_: WabaGate, state: DurableObjectState) =>
      state.storage.getAlarm(),
    );
    // The alarm is set for when the booking ahead is down to half the allowed wait: 1600 slots of
    // (1000 + jitter allowance) / 80 ms from the booking on.
    const bookedUntil = bookedAt + 1600 * intervalFor(80, false, Number(env.PACING_JITTER_MS));
    expect(alarmAt).toBeGreaterThanOrEqual(bookedUntil - MAX_SLOT_WAIT_MS / 2);
    expect(alarmAt).toBeLessThan(bookedUntil - MAX_SLOT_WAIT_MS / 2 + 1_000);

    // The alarm fires early (as a retried alarm may): no room yet, so nothing leaves and it re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.parkedJobs()).toEqual({ [bot.phoneNumberId]: 1 });
    expect(
      await runInDurableObject(stub, (_: WabaGate, s: DurableObjectState) => s.storage.getAlarm()),
    ).not.toBeNull();
    const sends = async () =>
      ((await sim("GET", "/_sim/messages?limit=1000")).messages as { phoneNumberId: string }[]).filter(
        (m) => m.phoneNumberId === bot.phoneNumberId,
      ).length;
    expect(await sends()).toBe(0);

    // Time passes: the booking ahead runs out (here: the schedule is moved to now).
    await runInDurableObject(stub, (instance: WabaGate, state: DurableObjectState) => {
      (instance as unknown as { pacing: Map<string, unknown> }).pacing.clear();
      state.storage.sql.exec("UPDATE pacing SET next_slot_at = ?", Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.parkedJobs()).toEqual({});
    // Back on the real queue, the job is sent exactly once.
    let body: { status: string } = { status: "queued" };
    for (let i = 0; i < 100 && body.status === "queued"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      body = (await (await gw(`/v1/messages/${id}`, { key: bot.apiKey })).json()) as { status: string };
    }
    expect(body.status).toBe("accepted");
    expect(await sends()).toBe(1);
  });

  it("releases parked jobs oldest first and re-arms for the rest", async () => {
    const stub = gate("pacing-order-waba");
    await stub.acquire("p9", 10, 10 * 20); // 20 s booked at 10/s
    const job = (n: number): QueueJob => ({
      v: 1,
      kind: "send",
      campaignId: `cmp_none${n}`,
      botId: "bot_none",
      messageIds: [`m${n}`],
    });
    for (let n = 0; n < 3; n++)
      expect(await stub.acquireOrPark("p9", 10, 60, job(n))).toEqual({ deferred: true });
    const order = await runInDurableObject(stub, (_: WabaGate, state: DurableObjectState) =>
      state.storage.sql.exec<{ body: string }>("SELECT body FROM parked ORDER BY seq").toArray(),
    );
    expect(order.map((r) => (JSON.parse(r.body) as QueueJob).campaignId)).toEqual([
      "cmp_none0",
      "cmp_none1",
      "cmp_none2",
    ]);
    // Room for one 6-second job now (60 sends at 10/s): the oldest leaves, the others wait.
    await runInDurableObject(stub, (instance: WabaGate, state: DurableObjectState) => {
      (instance as unknown as { pacing: Map<string, unknown> }).pacing.clear();
      state.storage.sql.exec("UPDATE pacing SET next_slot_at = ?", Date.now() + 3_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_: WabaGate, state: DurableObjectState) =>
      state.storage.sql.exec<{ body: string }>("SELECT body FROM parked ORDER BY seq").toArray(),
    );
    expect(left.map((r) => (JSON.parse(r.body) as QueueJob).campaignId)).toEqual(["cmp_none1", "cmp_none2"]);
    const next = await runInDurableObject(stub, (_: WabaGate, state: DurableObjectState) =>
      state.storage.getAlarm(),
    );
    // 3 s booked + 6 s released → look again when that is down to 7.5 s.
    expect(next).toBeGreaterThan(Date.now() + 1_000 - 500);
    expect(next).toBeLessThan(Date.now() + 1_600 + 500);
  });
});
