import { describe, expect, it } from "vitest";
import {
  axisTicks,
  ErrorsChart,
  FunnelChart,
  fillTimeline,
  niceMax,
  RouteSplitChart,
  StatusChart,
  share,
  TimelineChart,
} from "../../src/portal/charts";
import { formatPercent, formatTime, timeLeft } from "../../src/portal/labels";

const render = async (node: unknown) =>
  String(await (node as { toString(): string | Promise<string> }).toString());

/** The numbers inside a `<g data-…="key">` group's first coloured rect after the track. */
function widthOf(svg: string, attr: string, key: string): number {
  const group = new RegExp(`<g ${attr}="${key}">(.*?)</g>`).exec(svg)?.[1] ?? "";
  const widths = [...group.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
  return widths[1] ?? Number.NaN;
}

function expectAccessible(svg: string, id: string) {
  expect(svg).toContain(`<svg viewBox=`);
  expect(svg).toContain('role="img"');
  expect(svg).toContain(`aria-labelledby="${id}-title ${id}-desc"`);
  expect(svg).toMatch(new RegExp(`<title id="${id}-title">[^<]+</title>`));
  expect(svg).toMatch(new RegExp(`<desc id="${id}-desc">[^<]+</desc>`));
  expect(svg).toContain("<figcaption>");
  expect(svg).toContain("<table>");
  expect(svg).not.toContain("NaN");
  expect(svg).not.toContain("Infinity");
}

describe("chart maths", () => {
  it("picks round axis tops", () => {
    expect([0, 1, 2, 3, 7, 10, 11, 99, 101, 2500, 5001].map(niceMax)).toEqual([
      1, 1, 2, 5, 10, 10, 20, 100, 200, 5000, 10000,
    ]);
    expect([1, 2, 5, 10, 50, 200].map(axisTicks)).toEqual([
      [0, 1],
      [0, 1, 2],
      [0, 1, 2, 3, 4, 5],
      [0, 5, 10],
      [0, 25, 50],
      [0, 100, 200],
    ]);
    expect(share(1, 0)).toBe(0);
    expect(share(1, 4)).toBe(0.25);
    expect(formatPercent(0.990991)).toBe("99.1%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0)).toBe("0%");
    expect(formatTime("2026-11-29T14:03:07.123Z")).toBe("2026-11-29 14:03 UTC");
    expect(timeLeft("2026-01-02T00:00:00Z", Date.parse("2026-01-01T00:30:00Z"))).toBe("23 h 30 min");
    expect(timeLeft("2026-01-01T00:00:00Z", Date.parse("2026-01-01T00:30:00Z"))).toBe("now");
  });

  it("fills the minutes without events and merges long campaigns into wider buckets", () => {
    const p = (at: string, accepted: number) => ({ at, accepted, delivered: 0, read: 0, failed: 0 });
    const { buckets, minutes } = fillTimeline([p("2026-11-29T14:03:00Z", 5), p("2026-11-29T14:00:00Z", 2)]);
    expect(minutes).toBe(1);
    expect(buckets.map((b) => b.accepted)).toEqual([2, 0, 0, 5]);
    expect(new Date((buckets[0] as { start: number }).start).toISOString()).toBe("2026-11-29T14:00:00.000Z");

    const long = Array.from({ length: 300 }, (_, i) =>
      p(new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), 1),
    );
    const merged = fillTimeline(long, 120);
    expect(merged.minutes).toBe(3);
    expect(merged.buckets.length).toBe(100);
    expect(merged.buckets.reduce((n, b) => n + b.accepted, 0)).toBe(300);
    expect(fillTimeline([]).buckets).toEqual([]);
    expect(fillTimeline([p("garbage", 1)]).buckets).toEqual([]);
  });
});

describe("SVG charts", () => {
  it("funnel: bars proportional to the recipients, numbers in the description and the table", async () => {
    const svg = await render(
      FunnelChart({ id: "f", total: 200, funnel: { accepted: 200, sent: 150, delivered: 100, read: 50 } }),
    );
    expectAccessible(svg, "f");
    const full = widthOf(svg, "data-stage", "recipients");
    expect(full).toBeGreaterThan(0);
    expect(widthOf(svg, "data-stage", "accepted")).toBe(full);
    expect(widthOf(svg, "data-stage", "delivered")).toBeCloseTo(full / 2, 0);
    expect(widthOf(svg, "data-stage", "read")).toBeCloseTo(full / 4, 0);
    expect(svg).toContain(
      "Of 200 recipients, 200 accepted (100%), 150 sent (75%), 100 delivered (50%), 50 read (25%).",
    );
    expect(svg).toContain('<th scope="row">Delivered</th><td>100</td><td>50%</td>');
  });

  it("funnel and statuses: an empty campaign draws empty bars, never NaN", async () => {
    const funnel = await render(
      FunnelChart({ id: "f0", total: 0, funnel: { accepted: 0, sent: 0, delivered: 0, read: 0 } }),
    );
    expectAccessible(funnel, "f0");
    expect(widthOf(funnel, "data-stage", "read")).toBe(0);
    const counts = {
      queued: 0,
      accepted: 0,
      sent: 0,
      delivered: 0,
      read: 0,
      failed: 0,
      cancelled: 0,
      invalid: 0,
    };
    const statuses = await render(StatusChart({ id: "s0", counts }));
    expectAccessible(statuses, "s0");
    expect(statuses).toContain("No recipients yet.");
    expect(statuses).not.toContain("data-segment=");
  });

  it("statuses: one segment per non-empty status, widths adding up to the bar", async () => {
    const counts = {
      queued: 10,
      accepted: 0,
      sent: 0,
      delivered: 60,
      read: 20,
      failed: 10,
      cancelled: 0,
      invalid: 0,
    };
    const svg = await render(StatusChart({ id: "s", counts }));
    expectAccessible(svg, "s");
    const segs = [...svg.matchAll(/data-segment="(\w+)"><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)];
    expect(segs.map((m) => m[1])).toEqual(["queued", "delivered", "read", "failed"]);
    expect(segs.reduce((n, m) => n + Number(m[3]), 0)).toBeCloseTo(320, 0);
    // Counts inside the segments wide enough to hold them.
    expect(svg).toMatch(/data-segment="delivered">.*?font-weight="600" fill="#ffffff">60<\/text>/);
    expect(svg).toContain("60 delivered (60%)");
    // The legend names every status with its count (not colour alone).
    expect(svg).toMatch(/Cancelled<strong> 0<\/strong>/);
  });

  it("route split: decided route for every recipient beside what Meta confirmed", async () => {
    const svg = await render(
      RouteSplitChart({
        id: "r",
        total: 10,
        decidedRoute: "mm_lite",
        confirmed: { mm_lite: 6, cloud_api: 1 },
      }),
    );
    expectAccessible(svg, "r");
    expect(svg).toContain("Decided: 10 recipients through the MM Lite API.");
    expect(svg).toContain(
      "Confirmed by Meta: 6 through the MM Lite API, 1 through the Cloud API, 3 not confirmed yet.",
    );
    expect(svg.match(/data-segment="mm_lite"/g)?.length).toBe(2);
    expect(svg.match(/data-segment="unconfirmed"/g)?.length).toBe(1);
  });

  it("errors: longest bar first, titles escaped, a sentence when there are none", async () => {
    const svg = await render(
      ErrorsChart({
        id: "e",
        failed: 5,
        errors: [
          { code: 131049, title: "Healthy ecosystem <script>alert(1)</script>", count: 4 },
          { code: null, title: null, count: 1 },
        ],
      }),
    );
    expectAccessible(svg, "e");
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;");
    expect(widthOf(svg, "data-error", "131049")).toBeCloseTo(270, 0);
    expect(widthOf(svg, "data-error", "none")).toBeCloseTo(270 / 4, 0);
    expect(svg).toContain("No error code");
    const none = await render(ErrorsChart({ id: "e0", failed: 0, errors: [] }));
    expect(none).toContain("No recipient has failed");
    expect(none).not.toContain("<svg");
  });

  it("timeline: grouped bars with a fill pattern per stage for a short campaign", async () => {
    const t = (m: number, accepted: number, delivered: number) => ({
      at: new Date(Date.UTC(2026, 10, 29, 14, m)).toISOString(),
      accepted,
      sent: 0,
      delivered,
      read: 0,
      failed: 0,
    });
    const svg = await render(TimelineChart({ id: "t", timeline: [t(0, 100, 0), t(2, 50, 140)] }));
    expectAccessible(svg, "t");
    expect(svg).not.toContain("<polyline");
    for (const series of ["accepted", "delivered", "read", "failed"]) {
      const group = new RegExp(`<g data-series="${series}">(.*?)</g>`).exec(svg)?.[1] ?? "";
      expect(group.match(/<rect /g)?.length, series).toBe(3); // 14:00, 14:01 (filled in), 14:02
    }
    for (const fill of ["delivered", "read", "failed"]) {
      expect(svg).toContain(`<pattern id="t-fill-${fill}"`);
      expect(svg).toContain(`fill="url(#t-fill-${fill})"`);
      expect(svg).toContain(`<pattern id="t-legend-${fill}"`); // the legend shows the same pattern
    }
    expect(svg).toContain("14:00");
    expect(svg).toContain("14:02");
    expect(svg).toContain("per minute: 150 accepted, 140 delivered, 0 read, 0 failed");
    expect(svg).toContain(">200<"); // the axis top: niceMax(140) = 200

    const single = await render(TimelineChart({ id: "t1", timeline: [t(5, 3, 0)] }));
    expectAccessible(single, "t1");
    expect(single).toContain('<g data-series="accepted"><rect');
    const empty = await render(TimelineChart({ id: "t0", timeline: [] }));
    expect(empty).toContain("Nothing has happened yet");
  });

  it("timeline: a line per stage with its own dash pattern for a long campaign", async () => {
    const timeline = Array.from({ length: 30 }, (_, m) => ({
      at: new Date(Date.UTC(2026, 10, 29, 14, m)).toISOString(),
      accepted: 10 + m,
      sent: 0,
      delivered: m,
      read: m % 3,
      failed: m % 5 === 0 ? 1 : 0,
    }));
    const svg = await render(TimelineChart({ id: "tl", timeline }));
    expectAccessible(svg, "tl");
    for (const series of ["accepted", "delivered", "read", "failed"]) {
      expect(svg).toContain(`<g data-series="${series}"><polyline`);
    }
    const dashes = [...svg.matchAll(/<polyline [^>]*?stroke-dasharray="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(dashes).size).toBe(3); // accepted is solid, the other three differ
    const accepted = /<g data-series="accepted"><polyline points="([^"]+)"/.exec(svg)?.[1] ?? "";
    expect(accepted.split(" ").length).toBe(30);
    expect(svg).toContain("14:00");
    expect(svg).toContain("14:29");
  });
});
