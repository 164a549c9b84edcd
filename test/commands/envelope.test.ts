import { describe, expect, it } from "vitest";
import { CommandFailure, paging, parseUri, readCommand } from "../../src/commands/envelope";
import {
  normalizeLanguage,
  orderedParams,
  planFullCampaign,
  recipientNumber,
} from "../../src/commands/full-campaign";
import { gw, setupBot } from "../helpers";
import { command, FULL, get, POSTMASTER } from "./helpers";

describe("POST /commands: what is a command", () => {
  it("answers 400 problem+json for bodies that are not commands", async () => {
    const bot = await setupBot();
    const cases: [string, unknown, string[]][] = [
      ["array", [{ method: "get", uri: "/campaigns" }], [""]],
      ["string", "get /campaigns", [""]],
      ["number", 42, [""]],
      ["null", null, [""]],
      ["no method", { id: "1", uri: "/campaigns" }, ["method"]],
      ["no uri", { id: "1", method: "get" }, ["uri"]],
      ["neither", { id: "1", to: POSTMASTER }, ["method", "uri"]],
      ["method not a string", { method: 1, uri: "/campaigns" }, ["method"]],
      ["uri not a string", { method: "get", uri: ["/campaigns"] }, ["uri"]],
    ];
    for (const [label, body, paths] of cases) {
      const { status, body: answer, res } = await command(bot, JSON.stringify(body));
      expect(status, label).toBe(400);
      expect(res.headers.get("content-type"), label).toBe("application/problem+json");
      expect(answer, label).toMatchObject({ status: 400, code: "invalid_request" });
      expect(
        answer.errors.map((e: any) => e.path),
        label,
      ).toEqual(paths);
    }
  });

  it("answers 400 invalid_json for malformed JSON", async () => {
    const bot = await setupBot();
    for (const text of ["{", '{"method":"get",', "", "{'method':'get'}"]) {
      const { status, body } = await command(bot, text);
      expect(status, text).toBe(400);
      expect(body, text).toMatchObject({ code: "invalid_json" });
    }
  });

  it("needs the bot's key (Key or Bearer), like /v1", async () => {
    const bot = await setupBot();
    const body = JSON.stringify(get("/campaigns"));
    const none = await gw("/commands", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
    expect(await none.json()).toMatchObject({ code: "unauthorized" });
    const wrong = await command({ apiKey: `${bot.apiKey.slice(0, -1)}x` }, get("/campaigns"));
    expect(wrong.status).toBe(401);
    const bearer = await gw("/commands", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${bot.apiKey}` },
      body,
    });
    expect(bearer.status).toBe(200);
  });

  it("answers 405 with Allow for other HTTP methods", async () => {
    const res = await gw("/commands", { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers unknown uris and methods with failure code 1, echoing id and method", async () => {
    const bot = await setupBot();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ method: "get", uri: "/contacts" }, /Unknown uri "\/contacts"/],
      [{ method: "get", uri: "/campaigns/summaries" }, /Unknown uri/],
      [{ method: "get", uri: "/campaigns/x/audiences" }, /Unknown uri/],
      [{ method: "get", uri: "campaigns" }, /Unknown uri/],
      [
        { method: "delete", uri: "/campaigns/cmp_1" },
        /"delete" is not supported on \/campaigns\/cmp_1 \(supported: get\)/,
      ],
      [
        { method: "get", uri: "/campaign/full" },
        /"get" is not supported on \/campaign\/full \(supported: set\)/,
      ],
      [{ method: "set", uri: "/campaigns" }, /"set" is not supported/],
      [{ method: "merge", uri: "/campaigns/cmp_1/schedule" }, /Unknown uri/],
      [{ method: "get", uri: "/campaigns", to: "postmaster@msging.net" }, /serves postmaster@activecampaign/],
      [{ method: "get", uri: "/campaigns", extra: 1 }, /Unknown envelope member\(s\): extra/],
      [{ method: "get", uri: "/campaigns", id: { a: 1 } }, /id must be a string/],
    ];
    for (const [env, pattern] of cases) {
      const body = { id: "abc-1", ...env };
      const { status, body: answer } = await command(bot, body);
      expect(status, JSON.stringify(env)).toBe(200);
      expect(answer, JSON.stringify(env)).toMatchObject({
        from: POSTMASTER,
        to: `${bot.id}@msging.net`,
        method: String(env.method),
        status: "failure",
        reason: { code: 1 },
        metadata: { "#command.uri": env.uri },
      });
      expect(answer.reason.description, JSON.stringify(env)).toMatch(pattern);
      if (typeof env.id !== "object") expect(answer.id).toBe("abc-1");
    }
  });

  it("takes the method in any case and a command without `to` or `id`", async () => {
    const bot = await setupBot();
    const { body } = await command(bot, { method: "GET", uri: "/campaigns" });
    expect(body).toMatchObject({ status: "success", method: "get" });
    expect(typeof body.id).toBe("string");
    const numeric = await command(bot, { id: 7, method: "Get", uri: "/campaigns" });
    expect(numeric.body).toMatchObject({ id: 7, status: "success" });
  });

  it("refuses a set with another type as an invalid resource (11)", async () => {
    const bot = await setupBot();
    for (const type of [undefined, "application/json", "application/vnd.iris.activecampaign.campaign+json"]) {
      const { body } = await command(bot, {
        id: "t",
        method: "set",
        uri: "/campaign/full",
        type,
        resource: {},
      });
      expect(body.status).toBe("failure");
      expect(body.reason.code).toBe(11);
      expect(body.reason.description).toContain(FULL);
    }
  });
});

describe("envelope parsing (pure)", () => {
  it("reads uris, decoding %24 in query names as the Blip SDK sends them", () => {
    expect(parseUri("/campaigns?%24skip=20&%24take=10").route).toEqual({ kind: "campaigns" });
    expect(paging(parseUri("/campaigns?%24skip=20&%24take=10").query)).toEqual({ skip: 20, take: 10 });
    expect(paging(parseUri("/campaigns?$skip=0&$take=100").query)).toEqual({ skip: 0, take: 100 });
    expect(paging(parseUri("/campaigns").query)).toEqual({ skip: 0, take: 20 });
    expect(parseUri("/campaigns/cmp_1/reports?shouldHaveStateName=true").route).toEqual({
      kind: "reports",
      id: "cmp_1",
    });
    expect(parseUri("/Campaign/Full/").route).toEqual({ kind: "full_campaign" });
    expect(parseUri("/campaigns/cmp_A%2Fb/summaries").route).toEqual({ kind: "summaries", id: "cmp_A/b" });
    for (const bad of ["$take=0", "$take=101", "$take=abc", "$skip=-1", "$skip=1.5"]) {
      expect(() => paging(parseUri(`/campaigns?${bad}`).query), bad).toThrow(CommandFailure);
    }
  });

  it("keeps the id and lower-cases the method", () => {
    expect(readCommand({ id: "x", method: " SET ", uri: "/campaign/full" })).toMatchObject({
      id: "x",
      method: "set",
    });
    expect(() => readCommand([])).toThrow();
  });
});

describe("full-campaign mapping (pure)", () => {
  const message = { messageTemplate: "fall_sale", messageParams: ["1", "2"] };

  it("orders each recipient's values by message.messageParams", () => {
    expect(orderedParams(["1", "2"], { "2": "15/08", "1": "Ana" })).toEqual(["Ana", "15/08"]);
    expect(orderedParams(["2", "1"], { "1": "Ana", "2": "15/08" })).toEqual(["15/08", "Ana"]);
    // Unlisted keys are ignored; missing or null keys are left out (the row becomes invalid).
    expect(orderedParams(["1", "2"], { order: "x", "1": "Ana", "2": "B", pedido: "{}" })).toEqual([
      "Ana",
      "B",
    ]);
    expect(orderedParams(["1", "2"], { "1": "Ana", "2": null })).toEqual(["Ana"]);
    expect(orderedParams(["1", "constructor"], { "1": "Ana" })).toEqual(["Ana"]);
    // Numbers and booleans are text; an array is keyed "0", "1", … (PHP json_encode of 0-based keys).
    expect(orderedParams(["1", "2"], { "1": 42, "2": true })).toEqual(["42", "true"]);
    expect(orderedParams(["0", "1"], ["a", "b"])).toEqual(["a", "b"]);
    // No list: the recipient's own keys (integer-like keys ascend, as JSON objects do).
    expect(orderedParams(null, JSON.parse('{"2":"b","1":"a","name":"c"}'))).toEqual(["a", "b", "c"]);
    expect(orderedParams(null, null)).toEqual([]);
  });

  it("reads recipients, languages and nulls", () => {
    expect(recipientNumber("5511999990001@wa.gw.msging.net")).toBe("5511999990001");
    expect(recipientNumber(" +5511999990001 ")).toBe("+5511999990001");
    expect(recipientNumber(5511999990001)).toBe("5511999990001");
    expect(normalizeLanguage("pt-BR")).toBe("pt_BR");
    expect(normalizeLanguage("pt_br")).toBe("pt_BR");
    expect(normalizeLanguage("EN")).toBe("en");
    const plan = planFullCampaign({
      campaign: {
        name: "n",
        campaignType: "INDIVIDUAL",
        flowId: null,
        stateId: null,
        masterState: null,
        channelType: null,
        scheduled: null,
      },
      audience: { recipient: "5511999990001@wa.gw.msging.net", messageParams: { "1": "Ana", "2": 15 } },
      audiences: null,
      message: { ...message, messageTemplateLanguage: null, channelType: "WHATSAPP", attachment: null },
    });
    expect(plan).toEqual({
      name: "n",
      kind: "individual",
      template: "fall_sale",
      language: null,
      keys: ["1", "2"],
      audience: [{ to: "5511999990001", params: ["Ana", "15"] }],
    });
  });

  it("lists every problem of an invalid resource with code 11", () => {
    const attempt = () =>
      planFullCampaign({
        campaign: { name: "", campaignType: "Broadcast", channelType: "SMS", masterstat: "x" },
        audiences: [{ recipient: "+5511999990001", messageParams: { "1": { nested: true } } }],
        message: { messageTemplate: "fall_sale", messageParam: ["1"], attachment: { url: "https://x" } },
      });
    expect(attempt).toThrow(CommandFailure);
    try {
      attempt();
    } catch (err) {
      const f = err as CommandFailure;
      expect(f.code).toBe(11);
      for (const path of [
        "resource.campaign.name",
        "resource.campaign.campaignType",
        "resource.campaign.channelType",
        "resource.campaign: Unrecognized key",
        "resource.audiences.0.messageParams",
        "resource.message: Unrecognized key",
        "resource.message.attachment",
      ]) {
        expect(f.description).toContain(path);
      }
    }
  });

  it("refuses a mismatch of campaignType and audience shape, and repeated keys", () => {
    const base = { message: { messageTemplate: "t", messageParams: ["1", "1"] } };
    const individual = () =>
      planFullCampaign({
        ...base,
        campaign: { name: "x", campaignType: "Individual" },
        audiences: [{ recipient: "+5511999990001" }],
      });
    expect(individual).toThrow(/takes `audience` \(one object\), not `audiences`/);
    expect(individual).toThrow(/resource.audience: Required for an Individual campaign/);
    expect(individual).toThrow(/Key\(s\) listed twice: 1/);
    const batch = () =>
      planFullCampaign({
        ...base,
        campaign: { name: "x", campaignType: "batch" },
        audience: { recipient: "1" },
      });
    expect(batch).toThrow(/A Batch campaign takes `audiences`/);
  });

  it("refuses a future schedule (code 1) and sends a past one now", () => {
    const now = Date.parse("2026-05-01T12:00:00Z");
    const resource = (scheduled: string) => ({
      campaign: { name: "x", campaignType: "Batch", scheduled },
      audiences: [{ recipient: "+5511999990001", messageParams: { "1": "a", "2": "b" } }],
      message,
    });
    expect(planFullCampaign(resource("2026-05-01T11:00:00Z"), now).kind).toBe("batch");
    try {
      planFullCampaign(resource("2026-05-02T11:00:00Z"), now);
      expect.unreachable();
    } catch (err) {
      expect((err as CommandFailure).code).toBe(1);
      expect((err as CommandFailure).description).toMatch(/Scheduled campaigns are not supported/);
    }
    expect(() => planFullCampaign(resource("tomorrow"), now)).toThrow(/Expected an ISO-8601 time/);
  });
});
