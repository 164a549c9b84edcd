/**
 * Server-rendered SVG charts of a campaign's performance (pure: numbers in, markup out).
 *
 * Every chart is a `<figure>`: a visible caption, an `<svg role="img">` named by its `<title>` and
 * described by a `<desc>` that states the numbers in words, and the same numbers as a table
 * (`<details>`), so nothing is conveyed by colour or shape alone. Series differ by colour *and*
 * by label, dash pattern or position; every colour has at least 3:1 contrast on white.
 */
import type { Child } from "hono/jsx";
import { formatCount, formatPercent, label, ROUTE_LABEL } from "./labels";

export const COLORS = {
  recipients: "#475569",
  queued: "#64748b",
  accepted: "#1d4ed8",
  sent: "#0e7490",
  delivered: "#15803d",
  read: "#7e22ce",
  failed: "#b91c1c",
  cancelled: "#a16207",
  invalid: "#9d174d",
  mm_lite: "#15803d",
  cloud_api: "#1d4ed8",
  unconfirmed: "#64748b",
  error: "#b91c1c",
  track: "#e2e8f0",
  axis: "#475569",
  grid: "#cbd5e1",
  text: "#1e293b",
} as const;

export interface FunnelNumbers {
  accepted: number;
  sent: number;
  delivered: number;
  read: number;
}

export interface StatusCounts {
  queued: number;
  accepted: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  cancelled: number;
  invalid: number;
}

export interface TimelinePoint {
  at: string;
  accepted: number;
  sent?: number;
  delivered: number;
  read: number;
  failed: number;
}

export interface ErrorCount {
  code: number | null;
  title: string | null;
  count: number;
}

// ------------------------------------------------------------------------------- maths (pure)

/** n / d, 0 when d is 0 (never NaN). */
export function share(n: number, d: number): number {
  return d > 0 ? n / d : 0;
}

/** The smallest 1, 2 or 5 × 10^k that is ≥ n (1 for n ≤ 1): a round top for an axis. */
export function niceMax(n: number): number {
  if (!(n > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

/** Rounds for SVG attributes (keeps the markup short and stable). */
function r(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface Bucket {
  /** Start of the bucket, ms since the epoch. */
  start: number;
  accepted: number;
  delivered: number;
  read: number;
  failed: number;
}

/**
 * The API's per-minute buckets as a continuous series: minutes without events become zeros, and a
 * long campaign is merged into wider buckets so at most `maxPoints` remain. Answers the buckets and
 * their width in minutes.
 */
export function fillTimeline(
  points: TimelinePoint[],
  maxPoints = 120,
): { buckets: Bucket[]; minutes: number } {
  const parsed = points
    .map((p) => ({ ...p, t: Date.parse(p.at) }))
    .filter((p) => Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t);
  const first = parsed[0];
  const last = parsed[parsed.length - 1];
  if (!first || !last) return { buckets: [], minutes: 1 };
  const startMinute = Math.floor(first.t / 60_000);
  const span = Math.floor(last.t / 60_000) - startMinute + 1;
  const minutes = Math.max(1, Math.ceil(span / Math.max(1, maxPoints)));
  const count = Math.ceil(span / minutes);
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({
    start: (startMinute + i * minutes) * 60_000,
    accepted: 0,
    delivered: 0,
    read: 0,
    failed: 0,
  }));
  for (const p of parsed) {
    const b = buckets[Math.floor((Math.floor(p.t / 60_000) - startMinute) / minutes)];
    if (!b) continue;
    b.accepted += p.accepted;
    b.delivered += p.delivered;
    b.read += p.read;
    b.failed += p.failed;
  }
  return { buckets, minutes };
}

/** Whole-number gridlines for an axis whose top is `niceMax(…)`: 0, the middle, the top (1 → 0, 1; 5 → 0…5). */
export function axisTicks(max: number): number[] {
  if (max <= 1) return [0, 1];
  if (Number.isInteger(max / 2)) return [0, max / 2, max];
  const step = max / 5;
  return Array.from({ length: 6 }, (_, i) => i * step);
}

function hhmm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

// ------------------------------------------------------------------------------- frame

interface FigureProps {
  id: string;
  caption: string;
  title: string;
  desc: string;
  width: number;
  height: number;
  /** Wide charts scroll sideways on a phone rather than shrink their text. */
  wide?: boolean;
  table: Child;
  legend?: Child;
  defs?: Child;
  children: Child;
}

function Figure(p: FigureProps) {
  return (
    <figure class="chart" id={p.id}>
      <figcaption>{p.caption}</figcaption>
      <div class={p.wide ? "chart-scroll" : "chart-box"}>
        <svg
          viewBox={`0 0 ${p.width} ${p.height}`}
          width="100%"
          role="img"
          aria-labelledby={`${p.id}-title ${p.id}-desc`}
          class={p.wide ? "svg-wide" : undefined}
          font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
        >
          <title id={`${p.id}-title`}>{p.title}</title>
          <desc id={`${p.id}-desc`}>{p.desc}</desc>
          {p.defs ? <defs>{p.defs}</defs> : null}
          {p.children}
        </svg>
      </div>
      {p.legend}
      <details class="chart-data">
        <summary>Show the numbers as a table</summary>
        {p.table}
      </details>
    </figure>
  );
}

export type Fill = "solid" | "stripes" | "dots" | "hatch";

/** A fill pattern over a colour, so series differ by more than their colour. */
function Pattern({ id, color, fill }: { id: string; color: string; fill: Exclude<Fill, "solid"> }) {
  return (
    <pattern id={id} patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
      <rect width="6" height="6" fill={color} />
      {fill === "stripes" ? <line x1="1" y1="0" x2="1" y2="6" stroke="#ffffff" stroke-width="2" /> : null}
      {fill === "dots" ? <circle cx="3" cy="3" r="1.3" fill="#ffffff" /> : null}
      {fill === "hatch" ? (
        <>
          <line x1="1" y1="0" x2="1" y2="6" stroke="#ffffff" stroke-width="1.2" />
          <line x1="0" y1="4" x2="6" y2="4" stroke="#ffffff" stroke-width="1.2" />
        </>
      ) : null}
    </pattern>
  );
}

const paint = (id: string, color: string, fill: Fill | undefined) =>
  fill && fill !== "solid" ? `url(#${id})` : color;

interface LegendItem {
  key: string;
  label: string;
  color: string;
  value?: string;
  /** A line legend: the dash pattern ("" = solid). */
  dash?: string;
  fill?: Fill;
}

function Swatch({ id, item }: { id: string; item: LegendItem }) {
  return (
    <svg width="22" height="12" viewBox="0 0 22 12" aria-hidden="true" focusable="false">
      {item.dash === undefined ? (
        <>
          {item.fill && item.fill !== "solid" ? (
            <defs>
              <Pattern id={id} color={item.color} fill={item.fill} />
            </defs>
          ) : null}
          <rect width="22" height="12" rx="2" fill={paint(id, item.color, item.fill)} />
        </>
      ) : (
        <line
          x1="1"
          y1="6"
          x2="21"
          y2="6"
          stroke={item.color}
          stroke-width="3"
          stroke-dasharray={item.dash || undefined}
        />
      )}
    </svg>
  );
}

function Legend({ id, items }: { id: string; items: LegendItem[] }) {
  return (
    <ul class="legend">
      {items.map((i) => (
        <li>
          <Swatch id={`${id}-legend-${i.key}`} item={i} />
          <span>
            {i.label}
            {i.value !== undefined ? <strong> {i.value}</strong> : null}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Charts are drawn 320 units wide: about their size on a phone, so their text stays legible. */
const W = 320;

// ------------------------------------------------------------------------------- funnel

const FUNNEL_STAGES = [
  ["accepted", "Accepted"],
  ["sent", "Sent"],
  ["delivered", "Delivered"],
  ["read", "Read"],
] as const;

/** Recipients → accepted → sent → delivered → read, each as a share of the recipients. */
export function FunnelChart(props: { id: string; total: number; funnel: FunnelNumbers }) {
  const { total, funnel } = props;
  const rows = [
    { key: "recipients", label: "Recipients", value: total, color: COLORS.recipients },
    ...FUNNEL_STAGES.map(([key, text]) => ({ key, label: text, value: funnel[key], color: COLORS[key] })),
  ];
  const top = Math.max(total, ...rows.map((row) => row.value), 1);
  const rowH = 44;
  const H = rows.length * rowH;
  const desc = `Of ${formatCount(total)} recipients, ${FUNNEL_STAGES.map(
    ([key, text]) =>
      `${formatCount(funnel[key])} ${text.toLowerCase()} (${formatPercent(share(funnel[key], total))})`,
  ).join(", ")}.`;
  return (
    <Figure
      id={props.id}
      caption="Delivery funnel"
      title="Delivery funnel"
      desc={desc}
      width={W}
      height={H}
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Recipients</th>
              <th scope="col">Share of recipients</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr>
                <th scope="row">{row.label}</th>
                <td>{formatCount(row.value)}</td>
                <td>{formatPercent(share(row.value, total))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      {rows.map((row, i) => {
        const y = i * rowH;
        return (
          <g data-stage={row.key}>
            <text x={0} y={y + 15} font-size="13" fill={COLORS.text}>
              {row.label}
            </text>
            <text x={W} y={y + 15} text-anchor="end" font-size="13" font-weight="600" fill={COLORS.text}>
              {`${formatCount(row.value)} · ${formatPercent(share(row.value, total))}`}
            </text>
            <rect x={0} y={y + 21} width={W} height={16} rx="3" fill={COLORS.track} />
            <rect x={0} y={y + 21} width={r((W * row.value) / top)} height={16} rx="3" fill={row.color} />
          </g>
        );
      })}
    </Figure>
  );
}

// ------------------------------------------------------------------------------- status split

const STATUS_ORDER = [
  "queued",
  "accepted",
  "sent",
  "delivered",
  "read",
  "failed",
  "cancelled",
  "invalid",
] as const;
const STATUS_WORDS: Record<(typeof STATUS_ORDER)[number], string> = {
  queued: "Queued",
  accepted: "Accepted",
  sent: "Sent",
  delivered: "Delivered",
  read: "Read",
  failed: "Failed",
  cancelled: "Cancelled",
  invalid: "Invalid",
};

interface Segment {
  key: string;
  label: string;
  value: number;
  color: string;
}

function StackedBar(props: {
  x: number;
  y: number;
  width: number;
  height: number;
  segments: Segment[];
  of: number;
}) {
  const sum = Math.max(props.of, 1);
  let at = props.x;
  return (
    <g>
      <rect x={props.x} y={props.y} width={props.width} height={props.height} rx="3" fill={COLORS.track} />
      {props.segments
        .filter((s) => s.value > 0)
        .map((s) => {
          const w = (props.width * s.value) / sum;
          const x = at;
          at += w;
          const text = formatCount(s.value);
          // The count inside the segment when it fits (white on every segment colour: ≥ 4.5:1).
          const fits = w >= text.length * 7.5 + 6;
          return (
            <g data-segment={s.key}>
              <rect
                x={r(x)}
                y={props.y}
                width={r(w)}
                height={props.height}
                fill={s.color}
                stroke="#ffffff"
                stroke-width="1"
              />
              {fits ? (
                <text
                  x={r(x + w / 2)}
                  y={props.y + props.height / 2 + 4.5}
                  text-anchor="middle"
                  font-size="13"
                  font-weight="600"
                  fill="#ffffff"
                >
                  {text}
                </text>
              ) : null}
            </g>
          );
        })}
    </g>
  );
}

/** Where every recipient is now (api.md `counts`), as one stacked bar with a legend. */
export function StatusChart(props: { id: string; counts: StatusCounts }) {
  const segments: Segment[] = STATUS_ORDER.map((key) => ({
    key,
    label: STATUS_WORDS[key],
    value: props.counts[key],
    color: COLORS[key],
  }));
  const sum = segments.reduce((n, s) => n + s.value, 0);
  const nonZero = segments.filter((s) => s.value > 0);
  const desc =
    sum === 0
      ? "No recipients yet."
      : `${formatCount(sum)} recipients: ${nonZero
          .map(
            (s) => `${formatCount(s.value)} ${s.label.toLowerCase()} (${formatPercent(share(s.value, sum))})`,
          )
          .join(", ")}.`;
  return (
    <Figure
      id={props.id}
      caption="Where each recipient is now"
      title="Current status of the recipients"
      desc={desc}
      width={W}
      height={32}
      legend={
        <Legend
          id={props.id}
          items={segments.map((s) => ({
            key: s.key,
            label: s.label,
            color: s.color,
            value: formatCount(s.value),
          }))}
        />
      }
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Recipients</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {segments.map((s) => (
              <tr>
                <th scope="row">{s.label}</th>
                <td>{formatCount(s.value)}</td>
                <td>{formatPercent(share(s.value, sum))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      <StackedBar x={0} y={1} width={W} height={30} segments={segments} of={sum} />
    </Figure>
  );
}

// ------------------------------------------------------------------------------- route split

/**
 * The route decided at the start (every valid recipient of the campaign) beside the route Meta
 * confirmed in its status webhooks (`pricing.category`), with the recipients not confirmed yet.
 */
export function RouteSplitChart(props: {
  id: string;
  total: number;
  decidedRoute: string;
  confirmed: { mm_lite: number; cloud_api: number };
}) {
  const { total, confirmed } = props;
  const decided = props.decidedRoute === "mm_lite" ? "mm_lite" : "cloud_api";
  const unconfirmed = Math.max(0, total - confirmed.mm_lite - confirmed.cloud_api);
  const decidedSegments: Segment[] = [
    { key: decided, label: label(ROUTE_LABEL, decided), value: total, color: COLORS[decided] },
  ];
  const confirmedSegments: Segment[] = [
    { key: "mm_lite", label: "MM Lite API", value: confirmed.mm_lite, color: COLORS.mm_lite },
    { key: "cloud_api", label: "Cloud API", value: confirmed.cloud_api, color: COLORS.cloud_api },
    { key: "unconfirmed", label: "Not confirmed yet", value: unconfirmed, color: COLORS.unconfirmed },
  ];
  const of = Math.max(total, confirmed.mm_lite + confirmed.cloud_api, 1);
  const desc =
    `Decided: ${formatCount(total)} recipients through the ${label(ROUTE_LABEL, decided)}. ` +
    `Confirmed by Meta: ${formatCount(confirmed.mm_lite)} through the MM Lite API, ` +
    `${formatCount(confirmed.cloud_api)} through the Cloud API, ${formatCount(unconfirmed)} not confirmed yet.`;
  const rows = [
    { label: "Decided", segments: decidedSegments },
    { label: "Confirmed by Meta", segments: confirmedSegments },
  ];
  return (
    <Figure
      id={props.id}
      caption="Decided route and route confirmed by Meta"
      title="Decided versus confirmed route"
      desc={desc}
      width={W}
      height={96}
      legend={
        <Legend
          id={props.id}
          items={[
            { key: "mm_lite", label: "MM Lite API", color: COLORS.mm_lite },
            { key: "cloud_api", label: "Cloud API", color: COLORS.cloud_api },
            { key: "unconfirmed", label: "Not confirmed yet", color: COLORS.unconfirmed },
          ]}
        />
      }
      table={
        <table>
          <thead>
            <tr>
              <th scope="col" />
              <th scope="col">MM Lite API</th>
              <th scope="col">Cloud API</th>
              <th scope="col">Not confirmed yet</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Decided</th>
              <td>{formatCount(decided === "mm_lite" ? total : 0)}</td>
              <td>{formatCount(decided === "cloud_api" ? total : 0)}</td>
              <td>—</td>
            </tr>
            <tr>
              <th scope="row">Confirmed by Meta</th>
              <td>{formatCount(confirmed.mm_lite)}</td>
              <td>{formatCount(confirmed.cloud_api)}</td>
              <td>{formatCount(unconfirmed)}</td>
            </tr>
          </tbody>
        </table>
      }
    >
      {rows.map((row, i) => (
        <g>
          <text x={0} y={i * 50 + 15} font-size="13" fill={COLORS.text}>
            {row.label}
          </text>
          <StackedBar x={0} y={i * 50 + 21} width={W} height={26} segments={row.segments} of={of} />
        </g>
      ))}
    </Figure>
  );
}

// ------------------------------------------------------------------------------- top errors

/** The most frequent error codes of failed recipients, longest bar first. */
export function ErrorsChart(props: { id: string; errors: ErrorCount[]; failed: number }) {
  const errors = props.errors.filter((e) => e.count > 0);
  if (errors.length === 0) {
    return (
      <figure class="chart" id={props.id}>
        <figcaption>Top errors</figcaption>
        <p class="muted">No recipient has failed with an error.</p>
      </figure>
    );
  }
  const top = Math.max(...errors.map((e) => e.count), 1);
  const rowH = 44;
  const barW = W - 50;
  const H = errors.length * rowH;
  const name = (e: ErrorCount) => (e.code === null ? "No error code" : String(e.code));
  const desc = errors
    .map((e) => `${name(e)}${e.title ? ` (${e.title})` : ""}: ${formatCount(e.count)} recipients`)
    .join("; ");
  return (
    <Figure
      id={props.id}
      caption="Top errors"
      title="Most frequent errors of failed recipients"
      desc={`${desc}.`}
      width={W}
      height={H}
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Error</th>
              <th scope="col">Recipients</th>
              <th scope="col">Share of failures</th>
            </tr>
          </thead>
          <tbody>
            {errors.map((e) => (
              <tr>
                <th scope="row">{name(e)}</th>
                <td>{e.title ?? "—"}</td>
                <td>{formatCount(e.count)}</td>
                <td>{formatPercent(share(e.count, props.failed))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    >
      {errors.map((e, i) => {
        const y = i * rowH;
        const title = e.title ?? "";
        // Long titles are cut here; the description and the table carry them whole.
        const full = `${name(e)}${title ? ` · ${title}` : ""}`;
        const text = full.length > 42 ? `${full.slice(0, 41)}…` : full;
        return (
          <g data-error={e.code ?? "none"}>
            <text x={0} y={y + 15} font-size="13" fill={COLORS.text}>
              {text}
            </text>
            <rect x={0} y={y + 21} width={barW} height={16} rx="3" fill={COLORS.track} />
            <rect x={0} y={y + 21} width={r((barW * e.count) / top)} height={16} rx="3" fill={COLORS.error} />
            <text x={W} y={y + 34} text-anchor="end" font-size="13" font-weight="600" fill={COLORS.text}>
              {formatCount(e.count)}
            </text>
          </g>
        );
      })}
    </Figure>
  );
}

// ------------------------------------------------------------------------------- timeline

const SERIES = [
  { key: "accepted", label: "Accepted", color: COLORS.accepted, dash: "", fill: "solid" },
  { key: "delivered", label: "Delivered", color: COLORS.delivered, dash: "7 4", fill: "stripes" },
  { key: "read", label: "Read", color: COLORS.read, dash: "2 3", fill: "dots" },
  { key: "failed", label: "Failed", color: COLORS.failed, dash: "9 3 2 3", fill: "hatch" },
] as const;

/** Up to this many buckets the timeline is drawn as grouped bars; beyond, as lines. */
export const TIMELINE_BAR_BUCKETS = 12;

/**
 * Events per minute (or per wider bucket for long campaigns) of each stage: grouped bars for a
 * short campaign (a line through one or two points says little), lines for a long one. Series
 * differ by colour and by fill pattern (bars) or dash pattern (lines).
 */
export function TimelineChart(props: { id: string; timeline: TimelinePoint[] }) {
  const { buckets, minutes } = fillTimeline(props.timeline);
  if (buckets.length === 0) {
    return (
      <figure class="chart" id={props.id}>
        <figcaption>Timeline</figcaption>
        <p class="muted">Nothing has happened yet: the timeline starts with the first accepted message.</p>
      </figure>
    );
  }
  const bars = buckets.length <= TIMELINE_BAR_BUCKETS;
  const TW = 560;
  const H = 240;
  const left = 48;
  const right = 12;
  const topPad = 12;
  const bottom = 30;
  const plotW = TW - left - right;
  const plotH = H - topPad - bottom;
  const max = niceMax(Math.max(...buckets.flatMap((b) => [b.accepted, b.delivered, b.read, b.failed])));
  const slot = plotW / buckets.length;
  // Bars: the centre of each bucket's slot; lines: from the first to the last point.
  const x = (i: number) =>
    bars || buckets.length === 1 ? left + slot * (i + 0.5) : left + (plotW * i) / (buckets.length - 1);
  const y = (v: number) => topPad + plotH - (plotH * v) / max;
  const ticks = axisTicks(max);
  const firstBucket = buckets[0] as Bucket;
  const lastBucket = buckets[buckets.length - 1] as Bucket;
  const labelAt = bars
    ? buckets.map((_, i) => i).filter((i) => buckets.length <= 6 || i % 2 === 0 || i === buckets.length - 1)
    : [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1];
  const anchor = (i: number) =>
    bars ? "middle" : i === 0 ? "start" : i === buckets.length - 1 ? "end" : "middle";
  const totals = SERIES.map((s) => ({ ...s, sum: buckets.reduce((n, b) => n + b[s.key], 0) }));
  const peak = buckets.reduce((best, b) => (b.accepted > best.accepted ? b : best), firstBucket);
  const unit = minutes === 1 ? "minute" : `${minutes} minutes`;
  const desc =
    `From ${hhmm(firstBucket.start)} to ${hhmm(lastBucket.start + minutes * 60_000)} UTC, per ${unit}: ` +
    `${totals.map((s) => `${formatCount(s.sum)} ${s.label.toLowerCase()}`).join(", ")}. ` +
    `Most messages were accepted at ${hhmm(peak.start)} UTC (${formatCount(peak.accepted)}).`;
  const barW = Math.min(22, (slot * 0.8) / SERIES.length);
  const patternId = (key: string) => `${props.id}-fill-${key}`;
  return (
    <Figure
      id={props.id}
      caption={`Timeline (events per ${unit}, UTC)`}
      title="Timeline of the campaign"
      desc={desc}
      width={TW}
      height={H}
      wide
      defs={
        bars
          ? SERIES.filter((s) => s.fill !== "solid").map((s) => (
              <Pattern id={patternId(s.key)} color={s.color} fill={s.fill as Exclude<Fill, "solid">} />
            ))
          : undefined
      }
      legend={
        <Legend
          id={props.id}
          items={SERIES.map((s) => ({
            key: s.key,
            label: s.label,
            color: s.color,
            ...(bars ? { fill: s.fill } : { dash: s.dash }),
          }))}
        />
      }
      table={
        <table>
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              {SERIES.map((s) => (
                <th scope="col">{s.label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {buckets
              .filter((b) => b.accepted + b.delivered + b.read + b.failed > 0)
              .map((b) => (
                <tr>
                  <th scope="row">
                    <time datetime={new Date(b.start).toISOString()}>{hhmm(b.start)}</time>
                  </th>
                  {SERIES.map((s) => (
                    <td>{formatCount(b[s.key])}</td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      }
    >
      <g font-size="13" fill={COLORS.text}>
        {ticks.map((t) => (
          <g>
            <line x1={left} x2={TW - right} y1={r(y(t))} y2={r(y(t))} stroke={COLORS.grid} stroke-width="1" />
            <text x={left - 6} y={r(y(t)) + 4} text-anchor="end">
              {formatCount(Math.round(t))}
            </text>
          </g>
        ))}
        <line x1={left} x2={left} y1={topPad} y2={topPad + plotH} stroke={COLORS.axis} stroke-width="1" />
        {labelAt.map((i) => (
          <text x={r(x(i))} y={H - bottom + 20} text-anchor={anchor(i)}>
            {hhmm((buckets[i] as Bucket).start)}
          </text>
        ))}
      </g>
      {bars
        ? SERIES.map((s, k) => (
            <g data-series={s.key}>
              {buckets.map((b, i) => {
                const h = (plotH * b[s.key]) / max;
                return (
                  <rect
                    x={r(x(i) - (barW * SERIES.length) / 2 + k * barW)}
                    y={r(topPad + plotH - h)}
                    width={r(barW - 1)}
                    height={r(h)}
                    fill={s.fill === "solid" ? s.color : `url(#${patternId(s.key)})`}
                    stroke={s.color}
                    stroke-width="1"
                  />
                );
              })}
            </g>
          ))
        : SERIES.map((s) => (
            <g data-series={s.key}>
              <polyline
                points={buckets.map((b, i) => `${r(x(i))},${r(y(b[s.key]))}`).join(" ")}
                fill="none"
                stroke={s.color}
                stroke-width="2.5"
                stroke-dasharray={s.dash || undefined}
                stroke-linejoin="round"
              />
              {buckets.length <= 60
                ? buckets.map((b, i) => <circle cx={r(x(i))} cy={r(y(b[s.key]))} r="3" fill={s.color} />)
                : null}
            </g>
          ))}
    </Figure>
  );
}
