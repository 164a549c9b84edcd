import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { setupBot, sim, type TestBot } from "../helpers";
import { addTemplates, command, created, FULL, POSTMASTER, sendsAtMeta, untilDone } from "./helpers";

afterEach(async () => {
  await sim("DELETE", "/_sim/faults");
});

function full(resource: Record<string, unknown>, id: string = crypto.randomUUID()) {
  return { id, to: POSTMASTER, method: "set", uri: "/campaign/full", type: FULL, resource };
}

const batch = (audiences: unknown[], message: Record<string, unknown> = {}) => ({
  campaign: { name: "bf", campaignType: "Batch", flowId: "f1", stateId: "s1", channelType: "WhatsApp" },
  audiences,
  message: {
    messageTemplate: "fall_sale",
    messageTemplateLanguage: "pt_BR",
    messageParams: ["1", "2"],
    channelType: "WhatsApp",
    ...message,
  },
});

async function campaignsOf(bot: TestBot) {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM campaigns WHERE bot_id = ?")
    .bind(bot.id)
    .first("n")) as number;
}

describe("set /campaign/full", () => {
  it("creates a Batch campaign (api.md example) and sends each recipient's parameters in order", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const id = crypto.randomUUID();
    const { status, body } = await command(
      bot,
      full(
        batch([
          { recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } },
          { recipient: "+5511999990002", messageParams: { "2": "16/08", "1": "Bia" } },
          { recipient: "12ab", messageParams: { "1": "x", "2": "y" } },
        ]),
        id,
      ),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id,
      from: POSTMASTER,
      to: `${bot.id}@msging.net`,
      method: "set",
      status: "success",
      type: "application/vnd.iris.activecampaign.campaign+json",
      metadata: { "#command.uri": "/campaign/full" },
      resource: {
        name: "bf",
        campaignType: "Batch",
        status: "sending",
        channelType: "WhatsApp",
        messageTemplate: "fall_sale",
        messageTemplateLanguage: "pt_BR",
        isToUseLiteApi: true,
        route: "mm_lite",
        routeReason: "mm_lite_activated",
        total: 2,
        invalid: 1,
        invalidRows: [{ row: 2, value: "12ab", reason: "invalid_phone" }],
      },
    });
    expect(body.resource.id).toMatch(/^cmp_/);
    expect(body.reason).toBeUndefined();
    const done = await untilDone(bot, body.resource.id);
    expect(done).toMatchObject({ status: "completed", counts: { accepted: 2, invalid: 1 } });
    const sent = await sendsAtMeta(bot);
    expect(sent.map((m) => [m.to, m.template, m.language, m.params]).sort()).toEqual([
      ["5511999990001", "fall_sale", "pt_BR", ["Ana", "15/08"]],
      ["5511999990002", "fall_sale", "pt_BR", ["Bia", "16/08"]],
    ]);
  });

  it('maps parameters in the order of message.messageParams: ["2","1"] reverses them', async () => {
    const bot = await setupBot();
    const resource = await created(
      bot,
      full(
        batch([{ recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } }], {
          messageParams: ["2", "1"],
        }),
      ),
    );
    await untilDone(bot, resource.id);
    expect((await sendsAtMeta(bot)).map((m) => m.params)).toEqual([["15/08", "Ana"]]);
  });

  it("creates an Individual campaign from `audience`", async () => {
    const bot = await setupBot();
    const resource = await created(
      bot,
      full({
        campaign: { name: "one", campaignType: "Individual" },
        audience: { recipient: "+55 11 99999-0003", messageParams: { "1": "Caio", "2": "17/08" } },
        message: {
          messageTemplate: "fall_sale",
          messageTemplateLanguage: "pt_BR",
          messageParams: ["1", "2"],
        },
      }),
    );
    expect(resource).toMatchObject({ name: "one", campaignType: "Individual", total: 1, invalid: 0 });
    await untilDone(bot, resource.id);
    expect((await sendsAtMeta(bot)).map((m) => [m.to, m.params])).toEqual([
      ["5511999990003", ["Caio", "17/08"]],
    ]);
  });

  it("takes nulls for unused fields and missing optional ones, inferring the only approved language", async () => {
    const bot = await setupBot({ onboarding: "ELIGIBLE" });
    const resource = await created(
      bot,
      full({
        campaign: {
          name: "nulls",
          campaignType: "batch",
          flowId: null,
          stateId: null,
          masterState: null,
          channelType: null,
          scheduled: null,
        },
        audiences: [{ recipient: "5511999990001", messageParams: { "1": "Ana", "2": 15 } }],
        message: { messageTemplate: "fall_sale", messageParams: ["1", "2"], messageTemplateLanguage: null },
      }),
    );
    expect(resource).toMatchObject({
      messageTemplateLanguage: "pt_BR",
      route: "cloud_api",
      routeReason: "waba_not_onboarded",
      isToUseLiteApi: false,
    });
    await untilDone(bot, resource.id);
    expect((await sendsAtMeta(bot)).map((m) => [m.language, m.params, m.product])).toEqual([
      ["pt_BR", ["Ana", "15"], "cloud_api"],
    ]);
  });

  it("refuses a template approved in two languages when the language is left out", async () => {
    const bot = await setupBot();
    await addTemplates(bot, [
      {
        name: "fall_sale",
        language: "en_US",
        status: "APPROVED",
        category: "MARKETING",
        bodyText: "Hi {{1}}, {{2}}",
      },
    ]);
    const resource = batch([{ recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } }]);
    delete (resource.message as Record<string, unknown>).messageTemplateLanguage;
    const { body } = await command(bot, full(resource));
    expect(body.status).toBe("failure");
    expect(body.reason.code).toBe(11);
    expect(body.reason.description).toMatch(
      /approved in 2 languages \(en_US, pt_BR\).*messageTemplateLanguage/,
    );
    expect(await campaignsOf(bot)).toBe(0);
    // Naming the language works.
    const ok = await command(
      bot,
      full({ ...resource, message: { ...resource.message, messageTemplateLanguage: "en-US" } }),
    );
    expect(ok.body).toMatchObject({ status: "success", resource: { messageTemplateLanguage: "en_US" } });
  });

  it("uses the approved language when the other one is not approved, and says why when none is", async () => {
    const bot = await setupBot();
    await addTemplates(bot, [
      {
        name: "fall_sale",
        language: "es",
        status: "PENDING",
        category: "MARKETING",
        bodyText: "Hola {{1}} {{2}}",
      },
    ]);
    const audiences = [{ recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } }];
    const one = await command(
      bot,
      full({ ...batch(audiences), message: { messageTemplate: "fall_sale", messageParams: ["1", "2"] } }),
    );
    expect(one.body).toMatchObject({ status: "success", resource: { messageTemplateLanguage: "pt_BR" } });
    const pending = await command(
      bot,
      full({ ...batch(audiences), message: { messageTemplate: "winter_sale", messageParams: ["1"] } }),
    );
    expect(pending.body.reason).toMatchObject({ code: 11 });
    expect(pending.body.reason.description).toMatch(
      /winter_sale is not approved in any language \(pt_BR: PENDING\)/,
    );
    const missing = await command(
      bot,
      full({ ...batch(audiences), message: { messageTemplate: "nope", messageParams: ["1"] } }),
    );
    expect(missing.body.reason).toMatchObject({ code: 11 });
    expect(missing.body.reason.description).toMatch(/nope does not exist for this WABA.*template_not_found/);
  });

  it("refuses template and parameter problems as invalid resources (11), creating nothing", async () => {
    const bot = await setupBot();
    const a = [
      { recipient: "+5511999990001", messageParams: { "0": "https://img", "1": "Ana", "2": "15/08" } },
    ];
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        batch(a, { messageParams: ["0", "1", "2"] }),
        /takes 2 body parameter\(s\); message.messageParams lists 3 \(0, 1, 2\)/,
      ],
      [batch(a, { messageTemplate: "nope" }), /nope \(pt_BR\) does not exist.*template_not_found/],
      [batch(a, { messageTemplate: "winter_sale", messageParams: ["1"] }), /PENDING.*template_not_approved/],
      [batch([]), /The audience has no recipient.*empty_audience/],
      [
        batch([{ recipient: "12ab", messageParams: { "1": "a", "2": "b" } }]),
        /empty_audience.*#0 12ab: invalid_phone/,
      ],
      [
        batch([{ recipient: "+5511999990001", messageParams: { "1": "a" } }]),
        /#0 \+5511999990001: template_params_mismatch/,
      ],
    ];
    for (const [resource, pattern] of cases) {
      const { status, body } = await command(bot, full(resource));
      expect(status).toBe(200);
      expect(body.status, pattern.source).toBe("failure");
      expect(body.reason.code, pattern.source).toBe(11);
      expect(body.reason.description).toMatch(pattern);
    }
    expect(await campaignsOf(bot)).toBe(0);
  });

  it("refuses a malformed resource with 11 listing each problem", async () => {
    const bot = await setupBot();
    const { body } = await command(
      bot,
      full({
        campaign: { campaignType: "Individual", masterstate: "x@msging.net" },
        audiences: [{ recipient: "+5511999990001" }],
        message: { messageTemplate: "fall_sale", messageParam: ["1", "2"] },
      }),
    );
    expect(body).toMatchObject({ status: "failure", reason: { code: 11 } });
    const d: string = body.reason.description;
    expect(d).toContain("resource.campaign.name");
    expect(d).toContain("resource.message: Unrecognized key");
    expect(d).toContain("messageParam");
    expect(d).toContain("resource.audiences: An Individual campaign takes `audience`");
    expect(d).toContain("resource.audience: Required for an Individual campaign");
  });

  it("answers a future schedule with failure 1 and nothing created", async () => {
    const bot = await setupBot();
    const resource = batch([{ recipient: "+5511999990001", messageParams: { "1": "a", "2": "b" } }]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const { body } = await command(
      bot,
      full({ ...resource, campaign: { ...resource.campaign, scheduled: future } }),
    );
    expect(body.reason).toMatchObject({ code: 1 });
    expect(body.reason.description).toContain("Scheduled campaigns are not supported");
    expect(await campaignsOf(bot)).toBe(0);
  });

  it("answers failure 1 (not stored) when Meta cannot be asked for the language", async () => {
    const bot = await setupBot();
    await sim("PUT", "/_sim/faults", { rules: [{ endpoint: "templates", wabaId: bot.wabaId, code: 2 }] });
    const resource = batch([{ recipient: "+5511999990001", messageParams: { "1": "a", "2": "b" } }]);
    delete (resource.message as Record<string, unknown>).messageTemplateLanguage;
    const id = crypto.randomUUID();
    const first = await command(bot, full(resource, id));
    expect(first.body.reason).toMatchObject({ code: 1 });
    expect(first.body.reason.description).toMatch(/meta_unavailable/);
    await sim("DELETE", "/_sim/faults");
    // The same command again is carried out: an unavailable Meta is never the stored answer.
    const again = await command(bot, full(resource, id));
    expect(again.body.status).toBe("success");
  });
});

describe("set /campaign/full idempotency (envelope id)", () => {
  it("replays the first answer for the same id and envelope, creating one campaign", async () => {
    const bot = await setupBot();
    const body = full(batch([{ recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } }]));
    const a = await command(bot, body);
    const b = await command(bot, JSON.parse(JSON.stringify(body)));
    expect(a.body.status).toBe("success");
    expect(b.body).toEqual(a.body);
    expect(await campaignsOf(bot)).toBe(1);
    await untilDone(bot, a.body.resource.id);
    expect(await sendsAtMeta(bot)).toHaveLength(1);
  });

  it("answers failure 1 for the same id with a different envelope", async () => {
    const bot = await setupBot();
    const id = crypto.randomUUID();
    const first = full(
      batch([{ recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } }]),
      id,
    );
    const second = full(
      batch([{ recipient: "+5511999990002", messageParams: { "1": "Bia", "2": "16/08" } }]),
      id,
    );
    expect((await command(bot, first)).body.status).toBe("success");
    const { status, body } = await command(bot, second);
    expect(status).toBe(200);
    expect(body).toMatchObject({ id, status: "failure", reason: { code: 1 } });
    expect(body.reason.description).toMatch(/already used .* for a different command.*new id/);
    expect(await campaignsOf(bot)).toBe(1);
  });

  it("replays a refusal too, and keeps envelope ids apart from Idempotency-Key and other bots", async () => {
    const bot = await setupBot();
    const other = await setupBot();
    const id = "shared-id";
    const refused = full(batch([], {}), id);
    const a = await command(bot, refused);
    const b = await command(bot, refused);
    expect(a.body.reason.code).toBe(11);
    expect(b.body).toEqual(a.body);
    // Same id at another bot: its own command.
    const ok = full(batch([{ recipient: "+5511999990001", messageParams: { "1": "a", "2": "b" } }]), id);
    expect((await command(other, ok)).body.status).toBe("success");
    // The same id as a /v1 Idempotency-Key does not collide with the envelope id.
    const { gw } = await import("../helpers");
    const v1 = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      headers: { "idempotency-key": id },
      json: {
        name: "v1",
        template: { name: "fall_sale", language: "pt_BR" },
        audience: [{ to: "+5511999990001", params: ["a", "b"] }],
      },
    });
    expect(v1.status).toBe(202);
  });
});
