/** What every chart shares: colours, the accessible `<figure>` frame, legends, fill patterns, stacked bars. */
import type { Child } from "hono/jsx";
import { formatCount } from "../labels";
import { r } from "./maths";

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

export function Figure(p: FigureProps) {
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
export function Pattern({ id, color, fill }: { id: string; color: string; fill: Exclude<Fill, "solid"> }) {
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

export interface LegendItem {
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

export function Legend({ id, items }: { id: string; items: LegendItem[] }) {
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
export const W = 320;

export interface Segment {
  key: string;
  label: string;
  value: number;
  color: string;
}

export function StackedBar(props: {
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
