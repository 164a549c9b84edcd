import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  grant,
  INITIAL_PACING,
  intervalFor,
  PACING_HEADROOM,
  SLOWDOWN_MS,
  throttled,
} from "../../src/gate/pacing";

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

describe("WabaGate pacing (Durable Object)", () => {
  it("grants consecutive blocks without overlap, per phone number", async () => {
    const stub = env.WABA_GATE.get(env.WABA_GATE.idFromName("pacing-waba"));
    const a = await stub.acquire("p1", 100, 50);
    const b = await stub.acquire("p1", 100, 50);
    const other = await stub.acquire("p2", 100, 1);
    expect(b.startAt).toBeCloseTo(a.startAt + 50 * a.intervalMs, 6);
    expect(other.startAt).toBeLessThan(b.startAt);
    await stub.reportThrottle("p1", 3_000);
    const c = await stub.acquire("p1", 100, 1);
    expect(c.startAt).toBeGreaterThanOrEqual(b.startAt + 50 * b.intervalMs);
    expect(c.intervalMs).toBeCloseTo(2 * a.intervalMs, 6);
  });
});
