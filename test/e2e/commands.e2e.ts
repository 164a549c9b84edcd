/**
 * /commands black-box: bodies written as public integrations of the Active Campaign API send them
 * (nulls for unused fields, `masterState`, no channelType, messageParams as an object keyed by
 * name with the order in `message.messageParams`), against the gateway under `wrangler dev` and the
 * independent Meta fake. What matters is what Meta receives: the right parameters in the right order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeMeta } from "./fake-meta";
import { call, createBot } from "./helpers";
import { type Gateway, startGateway } from "./wrangler";

let fake: FakeMeta;
let gw: Gateway;

beforeAll(async () => {
  fake = await FakeMeta.start();
  gw = await startGateway({ graphUrl: fake.graphUrl("v25.0"), metaAccessToken: fake.accessToken });
});

afterAll(async () => {
  await gw?.stop();
  await fake?.close();
});

function bodyParams(rec: { body: any }): string[] {
  const body = (rec.body?.template?.components ?? []).find((c: any) => c.type === "body");
  return (body?.parameters ?? []).map((p: any) => p.text);
}

async function sendsSettled(phoneNumberId: string, n: number): Promise<any[]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const accepted = fake.acceptedSends(phoneNumberId);
    if (accepted.length >= n) return accepted;
    await new Promise((r) => setTimeout(r, 250));
  }
  return fake.acceptedSends(phoneNumberId);
}

describe("POST /commands under wrangler dev", () => {
  it("a Batch set /campaign/full as integrations send it reaches Meta with parameters in the given order", async () => {
    const bot = await createBot(gw, fake, { onboarding: "ONBOARDED" });
    const id = crypto.randomUUID();
    const envelope = {
      id,
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: "bf-commands",
          campaignType: "Batch",
          flowId: null,
          stateId: null,
          masterState: null,
        },
        audiences: [
          { recipient: "+5511999990101", messageParams: { nome: "Ana", data: "15/08" } },
          { recipient: "5511999990102", messageParams: { nome: "Bia", data: "16/08" } },
        ],
        message: {
          messageTemplate: "fall_sale",
          messageTemplateLanguage: "pt_BR",
          messageParams: ["nome", "data"],
        },
      },
    };
    const r = await call(gw, "POST", "/commands", { key: bot.apiKey, body: envelope });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ id, method: "set", status: "success" });
    expect(r.json.resource).toMatchObject({ name: "bf-commands" });

    const sent = await sendsSettled(bot.phoneNumberId, 2);
    const byTo = Object.fromEntries(sent.map((s) => [s.body.to, bodyParams(s)]));
    expect(byTo).toEqual({ "5511999990101": ["Ana", "15/08"], "5511999990102": ["Bia", "16/08"] });
    expect(sent.every((s) => s.kind === "send_mm_lite")).toBe(true);

    // The same envelope id again: the first answer, and nothing sent twice.
    const again = await call(gw, "POST", "/commands", { key: bot.apiKey, body: envelope });
    expect(again.json).toEqual(r.json);
    await new Promise((res) => setTimeout(res, 2000));
    expect(fake.acceptedSends(bot.phoneNumberId)).toHaveLength(2);
  });

  it("an Individual campaign with a reversed key order and no language sends the reversed parameters", async () => {
    const bot = await createBot(gw, fake, { onboarding: "ELIGIBLE" });
    const r = await call(gw, "POST", "/commands", {
      key: bot.apiKey,
      body: {
        id: crypto.randomUUID(),
        to: "postmaster@activecampaign.msging.net",
        method: "set",
        uri: "/campaign/full",
        type: "application/vnd.iris.activecampaign.full-campaign+json",
        resource: {
          campaign: { name: "one", campaignType: "Individual", flowId: null, stateId: null },
          audience: { recipient: "+5511999990103", messageParams: { "1": "first", "2": "second" } },
          // No language: order_update is approved in pt_BR only, so that is the one used.
          message: { messageTemplate: "order_update", messageParams: ["2", "1"] },
        },
      },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json.status, r.text).toBe("success");
    const [sent] = await sendsSettled(bot.phoneNumberId, 1);
    expect(sent && bodyParams(sent)).toEqual(["second", "first"]);
    expect(sent?.kind).toBe("send_cloud");
  });

  it("a body that is not a command is a 400, an unknown campaign a failure with code 67", async () => {
    const bot = await createBot(gw, fake);
    const notCommand = await call(gw, "POST", "/commands", { key: bot.apiKey, body: [1, 2] });
    expect(notCommand.status).toBe(400);
    const missing = await call(gw, "POST", "/commands", {
      key: bot.apiKey,
      body: {
        id: "x1",
        to: "postmaster@activecampaign.msging.net",
        method: "get",
        uri: "/campaigns/cmp_nope",
      },
    });
    expect(missing.status).toBe(200);
    expect(missing.json).toMatchObject({ id: "x1", status: "failure", reason: { code: 67 } });
  });
});
