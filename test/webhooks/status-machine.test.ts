// The status state machine, pure: properties over random statuses (fast-check) and the documented
// cases. The same rules are checked through the real endpoint and consumer in statuses.test.ts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyStatuses,
  joinDeltas,
  mergeDelta,
  type StatusEvent,
  summarize,
  type TrackedState,
  type WebhookStatus,
} from "../../src/webhooks/status-machine";

const ACCEPTED: TrackedState = {
  status: "accepted",
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  failedAt: null,
  errorCode: null,
  errorTitle: null,
  confirmedRoute: null,
  routeAt: null,
};

const T0 = 1_750_000_000;
const at = (s: number) => new Date((T0 + s) * 1000).toISOString();

function ev(status: WebhookStatus, s: number, over: Partial<StatusEvent> = {}): StatusEvent {
  return {
    wamid: "wamid.X",
    status,
    at: at(s),
    error: status === "failed" ? { code: 131049, title: "Not delivered" } : null,
    route: null,
    ...over,
  };
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

const RANK = { sent: 2, delivered: 3, read: 4, failed: 5 } as const;
const sortedByStage = (events: StatusEvent[]) => [...events].sort((a, b) => RANK[a.status] - RANK[b.status]);

/** One message's statuses: any of sent/delivered/read/failed, any times, pricing on some. */
const eventArb = fc.record({
  status: fc.constantFrom<WebhookStatus>("sent", "delivered", "read", "failed"),
  s: fc.integer({ min: 0, max: 600 }),
  priced: fc.option(fc.constantFrom("marketing_lite", "marketing", "utility"), { nil: null }),
});
const eventsArb = fc.array(eventArb, { minLength: 0, maxLength: 8 }).map((list) =>
  // Pricing times are made distinct, so "latest pricing wins" never needs the arrival tie-break.
  list.map((e, i) =>
    ev(e.status, e.s, {
      route: e.priced === null ? null : e.priced === "marketing_lite" ? "mm_lite" : "cloud_api",
      ...(e.priced !== null ? { at: at(e.s * 100 + i) } : {}),
    }),
  ),
);

describe("status machine", () => {
  it("every permutation of sent/delivered/read/failed ends in the state of the sorted order", () => {
    const all = [ev("sent", 10), ev("delivered", 20), ev("read", 30), ev("failed", 40)];
    const expected = applyStatuses(ACCEPTED, all);
    expect(expected).toMatchObject({
      status: "failed",
      sentAt: at(10),
      deliveredAt: at(20),
      readAt: at(30),
      failedAt: at(40),
      errorCode: 131049,
    });
    for (const subset of [all, all.slice(0, 3), [all[0], all[2]], [all[1], all[3]]] as StatusEvent[][]) {
      const sorted = applyStatuses(ACCEPTED, subset);
      for (const p of permutations(subset)) expect(applyStatuses(ACCEPTED, p)).toEqual(sorted);
    }
    expect(applyStatuses(ACCEPTED, all.slice(0, 3))).toMatchObject({ status: "read", failedAt: null });
  });

  it("a read without delivered fills delivered and sent with its time; a later delivered moves them back", () => {
    const read = applyStatuses(ACCEPTED, [ev("read", 30)]);
    expect(read).toMatchObject({ status: "read", sentAt: at(30), deliveredAt: at(30), readAt: at(30) });
    const then = applyStatuses(read, [ev("delivered", 20)]);
    expect(then).toMatchObject({ status: "read", sentAt: at(20), deliveredAt: at(20), readAt: at(30) });
  });

  it("a late delivered never replaces read; duplicates change nothing; played is not a status", () => {
    const s = applyStatuses(ACCEPTED, [ev("sent", 1), ev("read", 3)]);
    expect(applyStatuses(s, [ev("delivered", 5)])).toMatchObject({ status: "read", deliveredAt: at(3) });
    expect(applyStatuses(s, [ev("read", 3), ev("sent", 1)])).toEqual(s);
  });

  it("failed is terminal; its first error stays", () => {
    const failed = applyStatuses(ACCEPTED, [ev("failed", 5)]);
    expect(failed).toMatchObject({ status: "failed", failedAt: at(5), errorCode: 131049, sentAt: null });
    const later = applyStatuses(failed, [
      ev("failed", 9, { error: { code: 131026, title: "Undeliverable" } }),
      ev("delivered", 7),
    ]);
    expect(later).toMatchObject({ status: "failed", failedAt: at(5), errorCode: 131049, deliveredAt: at(7) });
  });

  it("confirmed route: the latest pricing wins, a tie goes to the later arrival", () => {
    const a = ev("sent", 10, { route: "cloud_api" });
    const b = ev("delivered", 20, { route: "mm_lite" });
    expect(applyStatuses(ACCEPTED, [a, b]).confirmedRoute).toBe("mm_lite");
    expect(applyStatuses(ACCEPTED, [b, a]).confirmedRoute).toBe("mm_lite");
    const tie = ev("delivered", 10, { route: "mm_lite" });
    expect(applyStatuses(ACCEPTED, [a, tie]).confirmedRoute).toBe("mm_lite");
    expect(applyStatuses(ACCEPTED, [tie, a]).confirmedRoute).toBe("cloud_api");
  });

  it("rows Meta never accepted do not change", () => {
    for (const status of ["queued", "cancelled", "invalid"] as const) {
      const s = { ...ACCEPTED, status };
      expect(applyStatuses(s, [ev("read", 1), ev("failed", 2)])).toEqual(s);
    }
  });

  it("property: the end state depends only on which statuses arrived, not on their order", () => {
    fc.assert(
      fc.property(
        eventsArb.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })),
        ),
        ([events, shuffled]) => {
          // At most one distinct failure: the first failure's error is kept by design.
          const oneFailure = events.filter((e) => e.status === "failed").length <= 1;
          fc.pre(oneFailure);
          expect(applyStatuses(ACCEPTED, shuffled)).toEqual(applyStatuses(ACCEPTED, events));
          expect(applyStatuses(ACCEPTED, shuffled)).toEqual(applyStatuses(ACCEPTED, sortedByStage(events)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("property: duplicates are no-ops, and a batch summary merges like one-by-one application", () => {
    fc.assert(
      fc.property(eventsArb, eventsArb, fc.nat(), (a, b, cut) => {
        const once = applyStatuses(ACCEPTED, [...a, ...b]);
        expect(applyStatuses(once, [...a, ...b])).toEqual(once);
        expect(applyStatuses(ACCEPTED, [...a, ...a, ...b, ...b])).toEqual(once);
        // What the consumer does: summarise a batch, merge the summary into the row.
        expect(mergeDelta(ACCEPTED, summarize([...a, ...b]))).toEqual(once);
        expect(mergeDelta(mergeDelta(ACCEPTED, summarize(a)), summarize(b))).toEqual(once);
        expect(mergeDelta(ACCEPTED, joinDeltas(summarize(a), summarize(b)))).toEqual(once);
        const all = [...a, ...b];
        const k = all.length === 0 ? 0 : cut % all.length;
        expect(mergeDelta(mergeDelta(ACCEPTED, summarize(all.slice(0, k))), summarize(all.slice(k)))).toEqual(
          once,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("property: status only moves forward, times stay ordered, each reached stage has a time", () => {
    const order = { accepted: 1, sent: 2, delivered: 3, read: 4 } as Record<string, number>;
    fc.assert(
      fc.property(eventsArb, (events) => {
        let s = ACCEPTED;
        for (const e of events) {
          const next = applyStatuses(s, [e]);
          if (s.status === "failed") expect(next.status).toBe("failed");
          else if (next.status !== "failed")
            expect(order[next.status]).toBeGreaterThanOrEqual(order[s.status] ?? 0);
          for (const k of ["sentAt", "deliveredAt", "readAt"] as const) {
            if (s[k] !== null) expect(next[k] !== null && next[k] <= (s[k] as string)).toBe(true);
          }
          s = next;
        }
        if (s.readAt) expect(s.deliveredAt !== null && s.deliveredAt <= s.readAt).toBe(true);
        if (s.deliveredAt) expect(s.sentAt !== null && s.sentAt <= s.deliveredAt).toBe(true);
        const reached = s.status === "failed" ? 0 : (order[s.status] ?? 0);
        if (reached >= 2) expect(s.sentAt).not.toBeNull();
        if (reached >= 3) expect(s.deliveredAt).not.toBeNull();
        if (reached >= 4) expect(s.readAt).not.toBeNull();
        expect(s.status === "failed").toBe(events.some((e) => e.status === "failed"));
      }),
      { numRuns: 2000 },
    );
  });
});
