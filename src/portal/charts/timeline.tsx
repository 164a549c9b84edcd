/** The campaign's timeline: grouped bars for a short campaign, lines for a long one. */
import { formatCount } from "../labels";
import { COLORS, Figure, type Fill, Legend, Pattern } from "./frame";
import { axisTicks, type Bucket, fillTimeline, hhmm, niceMax, r, type TimelinePoint } from "./maths";

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
