import { describe, expect, it } from "vitest";
import { gw, setupBot, sim, type TestBot } from "../helpers";
import { command, created, FULL, get, POSTMASTER, untilDone } from "./helpers";

async function campaign(bot: TestBot, name: string, numbers: string[]) {
  return created(bot, {
    id: crypto.randomUUID(),
    to: POSTMASTER,
    method: "set",
    uri: "/campaign/full",
    type: FULL,
    resource: {
      campaign: { name, campaignType: "Batch" },
      audiences: numbers.map((n, i) => ({ recipient: n, messageParams: { "1": `p${i}`, "2": "x" } })),
      message: { messageTemplate: "fall_sale", messageTemplateLanguage: "pt_BR", messageParams: ["1", "2"] },
    },
  });
}

describe("get /campaigns", () => {
  it("lists the bot's campaigns newest first as a collection, paged by $skip / $take", async () => {
    const bot = await setupBot();
    const other = await setupBot();
    const a = await campaign(bot, "a", ["+5511999990001"]);
    const b = await campaign(bot, "b", ["+5511999990001", "+5511999990002"]);
    const c = await campaign(bot, "c", ["+5511999990001"]);
    await campaign(other, "not mine", ["+5511999990001"]);
    // A one-message /v1 campaign is listed too.
    const single = await gw("/v1/messages", {
      method: "POST",
      key: bot.apiKey,
      json: { to: "+5511999990009", template: { name: "fall_sale", language: "pt_BR", params: ["a", "b"] } },
    });
    const { campaignId } = (await single.json()) as any;

    const { body } = await command(bot, get("/campaigns?$skip=0&$take=20"));
    expect(body).toMatchObject({
      status: "success",
      type: "application/vnd.lime.collection+json",
      resource: { itemType: "application/vnd.iris.activecampaign.campaign+json", total: 4 },
    });
    expect(body.resource.items.map((i: any) => i.id)).toEqual([campaignId, c.id, b.id, a.id]);
    expect(body.resource.items[2]).toMatchObject({
      name: "b",
      campaignType: "Batch",
      status: expect.stringMatching(/sending|completed/),
      messageTemplate: "fall_sale",
      total: 2,
    });
    expect(body.resource.items[0]).toMatchObject({ campaignType: "Individual" });

    // Encoded as the Blip SDK encodes it (URLSearchParams turns $ into %24).
    const page = await command(bot, get("/campaigns?%24skip=1&%24take=2"));
    expect(page.body.resource.total).toBe(4);
    expect(page.body.resource.items.map((i: any) => i.id)).toEqual([c.id, b.id]);
    const past = await command(bot, get("/campaigns?$skip=10"));
    expect(page.body.resource.total).toBe(4);
    expect(past.body.resource.items).toEqual([]);
  });

  it("answers an empty collection for a bot without campaigns, and failure 1 for bad paging", async () => {
    const bot = await setupBot();
    const { body } = await command(bot, get("/campaigns"));
    expect(body.resource).toEqual({
      itemType: "application/vnd.iris.activecampaign.campaign+json",
      total: 0,
      items: [],
    });
    for (const q of ["$take=101", "$take=0", "$skip=-1", "$take=ten"]) {
      const bad = await command(bot, get(`/campaigns?${q}`));
      expect(bad.body, q).toMatchObject({ status: "failure", reason: { code: 1 } });
      expect(bad.body.reason.description).toMatch(/\$(take|skip) must be an integer/);
    }
  });
});

describe("get /campaigns/{id}, /summaries and /reports", () => {
  it("answers the campaign, its counters and its per-recipient report", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    await sim("PUT", "/_sim/faults", {
      rules: [{ endpoint: "send_mm_lite", phoneNumberId: bot.phoneNumberId, code: 131026, count: 1 }],
    });
    const c = await campaign(bot, "report", ["+5511999990001", "12ab", "+5511999990002"]);
    await untilDone(bot, c.id);
    await sim("DELETE", "/_sim/faults");

    const detail = await command(bot, get(`/campaigns/${c.id}`));
    expect(detail.body).toMatchObject({
      status: "success",
      type: "application/vnd.iris.activecampaign.campaign+json",
      resource: {
        id: c.id,
        name: "report",
        campaignType: "Batch",
        status: "completed",
        total: 2,
        invalid: 1,
        counts: { accepted: 1, failed: 1, invalid: 1 },
        errors: [{ code: 131026, count: 1 }],
      },
    });
    expect(Array.isArray(detail.body.resource.timeline)).toBe(true);

    const summary = await command(bot, get(`/campaigns/${c.id}/summaries`));
    expect(summary.body).toMatchObject({
      status: "success",
      type: "application/vnd.iris.activecampaign.summary+json",
      resource: {
        id: c.id,
        total: 2,
        counts: { queued: 0, accepted: 1, failed: 1, invalid: 1 },
        funnel: { accepted: 1 },
        rates: { failure: 0.5, delivery: 0 },
      },
    });

    // As the Blip SDK asks for it (shouldHaveStateName is accepted and ignored).
    const report = await command(bot, get(`/campaigns/${c.id}/reports?shouldHaveStateName=true`));
    expect(report.body).toMatchObject({
      status: "success",
      type: "application/vnd.lime.collection+json",
      resource: { itemType: "application/vnd.iris.activecampaign.report+json", total: 3 },
    });
    const items = report.body.resource.items;
    expect(items.map((i: any) => [i.recipient, i.status])).toEqual([
      ["+5511999990001", expect.stringMatching(/accepted|failed/)],
      ["12ab", "invalid"],
      ["+5511999990002", expect.stringMatching(/accepted|failed/)],
    ]);
    const failed = items.find((i: any) => i.status === "failed");
    const accepted = items.find((i: any) => i.status === "accepted");
    expect(failed).toMatchObject({
      route: "mm_lite",
      messageId: expect.stringMatching(/^msg_/),
      wamid: null,
    });
    expect(failed.error).toMatchObject({ code: 131026 });
    expect(accepted).toMatchObject({
      route: "mm_lite",
      routeReason: "mm_lite_activated",
      confirmedRoute: null,
      wamid: expect.stringMatching(/^wamid\./),
      error: null,
      acceptedAt: expect.any(String),
      failedAt: null,
    });

    const paged = await command(bot, get(`/campaigns/${c.id}/reports?$skip=1&$take=1`));
    expect(paged.body.resource.total).toBe(3);
    expect(paged.body.resource.items.map((i: any) => i.recipient)).toEqual(["12ab"]);
    const tooMany = await command(bot, get(`/campaigns/${c.id}/reports?$take=1000`));
    expect(tooMany.body.reason).toMatchObject({ code: 1 });
  });

  it("answers 67 for another bot's campaign or an unknown id, on every read", async () => {
    const bot = await setupBot();
    const other = await setupBot();
    const theirs = await campaign(other, "theirs", ["+5511999990001"]);
    for (const id of [theirs.id, "cmp_nope"]) {
      for (const uri of [`/campaigns/${id}`, `/campaigns/${id}/summaries`, `/campaigns/${id}/reports`]) {
        const { status, body } = await command(bot, get(uri, "q-1"));
        expect(status, uri).toBe(200);
        expect(body, uri).toMatchObject({
          id: "q-1",
          status: "failure",
          reason: { code: 67, description: expect.stringContaining("not found") },
        });
        expect(body.resource).toBeUndefined();
      }
    }
    // The owner reads it.
    const mine = await command(other, get(`/campaigns/${theirs.id}`));
    expect(mine.body.status).toBe("success");
  });
});
