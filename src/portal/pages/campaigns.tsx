/** "Active messages": the campaign list and a campaign's performance details. */
import type { campaignListItem, campaignView } from "../../campaigns/views";
import { ErrorsChart, FunnelChart, RouteSplitChart, StatusChart, TimelineChart } from "../charts";
import {
  formatCount,
  formatPercent,
  formatTime,
  label,
  ROUTE_LABEL,
  ROUTE_REASON_LABEL,
  STATUS_LABEL,
} from "../labels";
import { Badge } from "../layout";

export type CampaignItem = ReturnType<typeof campaignListItem>;
export type CampaignDetail = ReturnType<typeof campaignView>;

/** Recipients no longer queued, out of the valid ones. */
export function progressOf(c: Pick<CampaignItem, "total" | "counts">): { done: number; total: number } {
  const total = c.total;
  return { done: Math.max(0, Math.min(total, total - c.counts.queued)), total };
}

function Progress({ c }: { c: CampaignItem }) {
  const { done, total } = progressOf(c);
  const text = `${formatCount(done)} of ${formatCount(total)} processed`;
  return (
    <div>
      <progress max={Math.max(total, 1)} value={done} aria-label={`Progress of ${c.name}`}>
        {text}
      </progress>
      <div class="small">{text}</div>
    </div>
  );
}

export function RouteCell({ route, reason }: { route: string; reason: string }) {
  return (
    <>
      <strong>{label(ROUTE_LABEL, route)}</strong>
      <div class="small muted">{label(ROUTE_REASON_LABEL, reason)}</div>
    </>
  );
}

export function CampaignList(props: {
  items: CampaignItem[];
  nextCursor: string | null;
  firstPage: boolean;
}) {
  return (
    <>
      <h1>Active messages</h1>
      <div class="actions-row">
        <a class="button" href="/portal/send">
          Send active message
        </a>
        <a class="button secondary" href="/portal/mm-lite">
          Connect MM Lite API
        </a>
        <a class="button secondary" href="/portal/campaigns">
          Refresh
        </a>
      </div>
      {props.items.length === 0 ? (
        <div class="card">
          <h2>No campaigns {props.firstPage ? "yet" : "on this page"}</h2>
          <p>
            Send an active message to one number or upload a CSV file to start a campaign.{" "}
            <a href="/portal/send">Send active message</a>
          </p>
        </div>
      ) : (
        <div class="table-card">
          <table class="responsive" aria-describedby="campaigns-caption">
            <caption id="campaigns-caption" class="visually-hidden">
              Campaigns, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Template</th>
                <th scope="col">Route</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.items.map((c) => (
                <tr data-campaign={c.id}>
                  <th scope="row" data-label="Name">
                    <a href={`/portal/campaigns/${c.id}`}>{c.name}</a>
                    <div class="small muted">{c.type === "individual" ? "Individual" : "Bulk (CSV)"}</div>
                  </th>
                  <td data-label="Template">
                    {c.template.name}
                    <div class="small muted">
                      {c.template.language} · {c.template.category}
                    </div>
                  </td>
                  <td data-label="Route">
                    <RouteCell route={c.route} reason={c.routeReason} />
                  </td>
                  <td data-label="Status">
                    <Badge kind={c.status} text={label(STATUS_LABEL, c.status)} />
                  </td>
                  <td data-label="Progress">
                    <Progress c={c} />
                  </td>
                  <td data-label="Created">
                    <time datetime={c.createdAt}>{formatTime(c.createdAt)}</time>
                  </td>
                  <td data-label="Actions">
                    <details class="menu">
                      <summary>
                        Actions<span class="visually-hidden"> for {c.name}</span>
                      </summary>
                      <ul>
                        <li>
                          <a href={`/portal/campaigns/${c.id}/report.csv`} download>
                            Download report
                          </a>
                        </li>
                        <li>
                          <a href={`/portal/campaigns/${c.id}`}>View performance details</a>
                        </li>
                      </ul>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {props.firstPage ? <span /> : <a href="/portal/campaigns">← Newest campaigns</a>}
        {props.nextCursor ? (
          <a href={`/portal/campaigns?cursor=${encodeURIComponent(props.nextCursor)}`} rel="next">
            Older campaigns →
          </a>
        ) : null}
      </nav>
    </>
  );
}

export function CampaignDetailView(props: { c: CampaignDetail; live: boolean; refreshSeconds: number }) {
  const { c } = props;
  const { done, total } = progressOf(c);
  const failed = c.counts.failed;
  return (
    <>
      <p class="small">
        <a href="/portal/campaigns">← Active messages</a>
      </p>
      <h1>
        Performance details: <span>{c.name}</span>
      </h1>
      {c.status === "sending" ? (
        <div class="alert info" role="status">
          <p>
            <strong>Sending:</strong> {formatCount(done)} of {formatCount(total)} recipients processed.{" "}
            {props.live ? (
              <>
                This page refreshes every {props.refreshSeconds} seconds.{" "}
                <a href={`/portal/campaigns/${c.id}?live=0`}>Stop refreshing</a>
              </>
            ) : (
              <a href={`/portal/campaigns/${c.id}`}>Refresh automatically</a>
            )}
          </p>
        </div>
      ) : null}
      <div class="card">
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <Badge kind={c.status} text={label(STATUS_LABEL, c.status)} />
          </dd>
          <dt>Template</dt>
          <dd>
            {c.template.name} ({c.template.language}, {c.template.category})
          </dd>
          <dt>Route</dt>
          <dd>
            <RouteCell route={c.route} reason={c.routeReason} />
          </dd>
          <dt>Created</dt>
          <dd>
            <time datetime={c.createdAt}>{formatTime(c.createdAt)}</time>
          </dd>
          <dt>Completed</dt>
          <dd>{c.completedAt ? <time datetime={c.completedAt}>{formatTime(c.completedAt)}</time> : "—"}</dd>
        </dl>
        <div class="actions-row">
          <a class="button" href={`/portal/campaigns/${c.id}/report.csv`} download>
            Download report (CSV)
          </a>
        </div>
      </div>
      <h2>Key numbers</h2>
      <ul class="kpis">
        <li>
          <span class="n">{formatCount(c.total)}</span>
          <span class="l">Recipients</span>
        </li>
        <li>
          <span class="n">{formatPercent(c.rates.delivery)}</span>
          <span class="l">Delivery rate (delivered / accepted)</span>
        </li>
        <li>
          <span class="n">{formatPercent(c.rates.read)}</span>
          <span class="l">Read rate (read / delivered)</span>
        </li>
        <li>
          <span class="n">{formatPercent(c.rates.failure)}</span>
          <span class="l">Failure rate ({formatCount(failed)} failed)</span>
        </li>
        <li>
          <span class="n">{formatCount(c.invalid)}</span>
          <span class="l">Invalid rows</span>
        </li>
        <li>
          <span class="n">{formatCount(c.duplicates)}</span>
          <span class="l">Duplicates dropped</span>
        </li>
      </ul>
      <h2>Charts</h2>
      <div class="charts">
        <FunnelChart id="funnel" total={c.total} funnel={c.funnel} />
        <StatusChart id="statuses" counts={c.counts} />
        <RouteSplitChart id="routes" total={c.total} decidedRoute={c.route} confirmed={c.confirmedRoutes} />
        <ErrorsChart id="errors" errors={c.errors} failed={failed} />
      </div>
      <TimelineChart id="timeline" timeline={c.timeline} />
    </>
  );
}
