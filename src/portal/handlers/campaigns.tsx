/** "Active messages": the list (cursor paging), the performance details, the report download. */
import type { Hono } from "hono";
import { campaignDetail, findCampaign, listCampaigns } from "../../campaigns/queries";
import { reportStream } from "../../campaigns/report-stream";
import type { PortalEnv } from "../guard";
import { CampaignDetailView, CampaignList } from "../pages/campaigns";
import { page } from "../render";

const PAGE_SIZE = 20;
const REFRESH_SECONDS = 5;

const CURSOR = /^[A-Za-z0-9_]{1,64}$/;

export function campaignHandlers(app: Hono<PortalEnv>): void {
  app.get("/campaigns", async (c) => {
    const raw = c.req.query("cursor");
    const cursor = raw && CURSOR.test(raw) ? raw : undefined;
    const { items, nextCursor } = await listCampaigns(c.env, c.get("bot").id, PAGE_SIZE, cursor);
    return page(
      c,
      { title: "Active messages", nav: "campaigns" },
      <CampaignList items={items} nextCursor={nextCursor} firstPage={cursor === undefined} />,
    );
  });

  app.get("/campaigns/:id", async (c) => {
    const detail = await campaignDetail(c.env, c.get("bot").id, c.req.param("id"));
    const live = detail.status === "sending" && c.req.query("live") !== "0";
    return page(
      c,
      {
        title: `Performance: ${detail.name}`,
        nav: "campaigns",
        refreshSeconds: live ? REFRESH_SECONDS : undefined,
      },
      <>
        {c.req.query("sent") === "1" ? (
          <div class="alert ok" role="status">
            <p>
              <strong>Your message is queued.</strong> Follow it here.
            </p>
          </div>
        ) : null}
        <CampaignDetailView c={detail} live={live} refreshSeconds={REFRESH_SECONDS} />
      </>,
    );
  });

  app.get("/campaigns/:id/report.csv", async (c) => {
    const campaign = await findCampaign(c.env, c.get("bot").id, c.req.param("id"));
    return new Response(reportStream(c.env.DB, campaign.id), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="campaign-${campaign.id}.csv"`,
      },
    });
  });
}
