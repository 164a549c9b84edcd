/** The bar charts of the performance details: delivery funnel, statuses, decided vs confirmed route, top errors. */
import { formatCount, formatPercent, label, ROUTE_LABEL } from "../labels";
import { COLORS, Figure, Legend, type Segment, StackedBar, W } from "./frame";
import { type ErrorCount, type FunnelNumbers, r, type StatusCounts, share } from "./maths";

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
