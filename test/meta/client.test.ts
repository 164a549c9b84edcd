import { describe, expect, it } from "vitest";
import { MetaClient } from "../../src/meta/client";
import { MetaApiError, MetaUnreachableError } from "../../src/meta/errors";
import { buildTemplateMessageBody } from "../../src/meta/messages";
import { countTemplateParams, templateParamNames } from "../../src/meta/templates";

const BASE = "http://meta-sim/v25.0";
const TOKEN = "EAAG-secret-token-123";
const PHONE = "106540352242922";
const WABA = "102290129340398";

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A transport that records each request exactly and answers from a script. */
function fakeMeta(...answers: Array<(req: Request) => Response | Promise<Response>>) {
  const seen: Seen[] = [];
  let i = 0;
  const fetch = async (req: Request): Promise<Response> => {
    seen.push({
      method: req.method,
      url: req.url,
      headers: Object.fromEntries(req.headers),
      body: await req.clone().text(),
    });
    const answer = answers[Math.min(i++, answers.length - 1)];
    if (!answer) throw new Error("no scripted answer");
    return answer(req);
  };
  return { seen, client: new MetaClient({ baseUrl: BASE, accessToken: TOKEN, fetch, timeoutMs: 200 }) };
}

const json = (status: number, body: unknown) => () => Response.json(body, { status });

function graphError(status: number, code: number, message = `(#${code}) something`, subcode?: number) {
  return json(status, {
    error: {
      message,
      type: "OAuthException",
      code,
      error_data: { messaging_product: "whatsapp", details: `details of ${code}` },
      ...(subcode ? { error_subcode: subcode } : {}),
      fbtrace_id: "AbCdEf",
    },
  });
}

const accepted = json(200, {
  messaging_product: "whatsapp",
  contacts: [{ input: "5511999990001", wa_id: "5511999990001" }],
  messages: [{ id: "wamid.HBgM1", message_status: "accepted" }],
});

const msg = {
  to: "+5511999990001",
  template: { name: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] },
};

const expectedBody = (extra: Record<string, unknown> = {}) => ({
  messaging_product: "whatsapp",
  recipient_type: "individual",
  to: "5511999990001",
  type: "template",
  template: {
    name: "fall_sale",
    language: { code: "pt_BR" },
    components: [
      {
        type: "body",
        parameters: [
          { type: "text", text: "Ana" },
          { type: "text", text: "15/08" },
        ],
      },
    ],
  },
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("sendTemplate", () => {
  it("MM Lite: POST /{phone}/marketing_messages with Meta's exact body, STRICT by default", async () => {
    const { seen, client } = fakeMeta(accepted);
    const sent = await client.sendTemplate("mm_lite", PHONE, msg);
    expect(sent).toEqual({ wamid: "wamid.HBgM1", messageStatus: "accepted", waId: "5511999990001" });
    expect(seen).toHaveLength(1);
    const [req] = seen;
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe(`${BASE}/${PHONE}/marketing_messages`);
    expect(req?.headers).toEqual({
      authorization: `Bearer ${TOKEN}`,
      accept: "application/json",
      "content-type": "application/json",
    });
    expect(req?.body).toBe(JSON.stringify(expectedBody({ product_policy: "STRICT" })));
  });

  it("Cloud API: POST /{phone}/messages, no product_policy", async () => {
    const { seen, client } = fakeMeta(accepted);
    await client.sendTemplate("cloud_api", PHONE, { ...msg, productPolicy: "CLOUD_API_FALLBACK" });
    expect(seen[0]?.url).toBe(`${BASE}/${PHONE}/messages`);
    expect(seen[0]?.body).toBe(JSON.stringify(expectedBody()));
  });

  it("MM Lite honours an explicit product policy", async () => {
    const { seen, client } = fakeMeta(accepted);
    await client.sendTemplate("mm_lite", PHONE, { ...msg, productPolicy: "CLOUD_API_FALLBACK" });
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual(expectedBody({ product_policy: "CLOUD_API_FALLBACK" }));
  });

  it("reads held_for_quality_assessment and an answer without status or contacts", async () => {
    const held = json(200, { messages: [{ id: "wamid.2", message_status: "held_for_quality_assessment" }] });
    const bare = json(200, { messages: [{ id: "wamid.3" }] });
    const { client } = fakeMeta(held, bare);
    expect(await client.sendTemplate("mm_lite", PHONE, msg)).toEqual({
      wamid: "wamid.2",
      messageStatus: "held_for_quality_assessment",
    });
    expect(await client.sendTemplate("mm_lite", PHONE, msg)).toEqual({
      wamid: "wamid.3",
      messageStatus: "accepted",
    });
  });

  it.each([
    [130429, 429, "throttled"],
    [131056, 400, "throttled"],
    [131000, 500, "transient"],
    [131055, 405, "fallback_cloud_api"],
    [134100, 400, "fallback_cloud_api"],
    [134102, 400, "fallback_cloud_api"],
    [134101, 400, "retry_later"],
    [131050, 400, "permanent"],
    [132001, 404, "permanent"],
    [190, 401, "permanent"],
  ])("Meta error %i (HTTP %i) → MetaApiError %s", async (code, status, kind) => {
    const { client } = fakeMeta(graphError(status, code, `(#${code}) refused`, 2494055));
    const err = await rejection(client.sendTemplate("mm_lite", PHONE, msg));
    expect(err).toBeInstanceOf(MetaApiError);
    const e = err as MetaApiError;
    expect(e.classification.kind).toBe(kind);
    expect(e).toMatchObject({
      code,
      subcode: 2494055,
      httpStatus: status,
      type: "OAuthException",
      fbtraceId: "AbCdEf",
      details: `details of ${code}`,
      metaMessage: `(#${code}) refused`,
    });
  });

  it("5xx without a body → transient MetaApiError without code", async () => {
    const { client } = fakeMeta(() => new Response(null, { status: 503 }));
    const err = (await rejection(client.sendTemplate("mm_lite", PHONE, msg))) as MetaApiError;
    expect(err).toBeInstanceOf(MetaApiError);
    expect(err.code).toBeUndefined();
    expect(err.httpStatus).toBe(503);
    expect(err.classification).toEqual({ kind: "transient", code: undefined });
  });

  it("a 502 HTML page from a proxy → transient", async () => {
    const { client } = fakeMeta(() => new Response("<html>Bad Gateway</html>", { status: 502 }));
    const err = (await rejection(client.sendTemplate("cloud_api", PHONE, msg))) as MetaApiError;
    expect(err.classification.kind).toBe("transient");
  });

  it("a 200 that is not Meta's JSON → unreachable, outcome unknown", async () => {
    for (const answer of [() => new Response("OK"), json(200, { messages: [] }), json(200, [1])]) {
      const { client } = fakeMeta(answer);
      const err = (await rejection(client.sendTemplate("mm_lite", PHONE, msg))) as MetaUnreachableError;
      expect(err).toBeInstanceOf(MetaUnreachableError);
      expect(err.reason).toBe("bad_response");
      expect(err.outcomeUnknown).toBe(true);
    }
  });

  it("times out on a transport that never answers; the send may have reached Meta", async () => {
    const client = new MetaClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch: () => new Promise(() => {}),
      timeoutMs: 50,
    });
    const err = (await rejection(client.sendTemplate("mm_lite", PHONE, msg))) as MetaUnreachableError;
    expect(err).toBeInstanceOf(MetaUnreachableError);
    expect(err.reason).toBe("timeout");
    expect(err.outcomeUnknown).toBe(true);
  });

  it("times out on a transport that aborts with the signal", async () => {
    let signal: AbortSignal | undefined;
    const fetch = (req: Request) =>
      new Promise<Response>((_, reject) => {
        signal = req.signal;
        req.signal.addEventListener("abort", () => reject(req.signal.reason));
      });
    const client = new MetaClient({ baseUrl: BASE, accessToken: TOKEN, fetch, timeoutMs: 50 });
    const err = (await rejection(client.getWabaOnboardingStatus(WABA))) as MetaUnreachableError;
    expect(err.reason).toBe("timeout");
    expect(signal?.aborted).toBe(true);
  });

  it("times out on an answer whose body never ends", async () => {
    const endless = () => new Response(new ReadableStream({ start() {} }), { status: 200 });
    const client = new MetaClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch: async () => endless(),
      timeoutMs: 50,
    });
    const err = (await rejection(client.sendTemplate("mm_lite", PHONE, msg))) as MetaUnreachableError;
    expect(err.reason).toBe("timeout");
  });

  it("network failures: unknown outcome, unless the connection was refused", async () => {
    const lost = new MetaClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch: () => Promise.reject(new TypeError("Network connection lost.")),
    });
    const e1 = (await rejection(lost.sendTemplate("mm_lite", PHONE, msg))) as MetaUnreachableError;
    expect(e1).toMatchObject({ reason: "network", outcomeUnknown: true });
    const refused = new MetaClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:443")),
    });
    const e2 = (await rejection(refused.sendTemplate("mm_lite", PHONE, msg))) as MetaUnreachableError;
    expect(e2).toMatchObject({ reason: "network", outcomeUnknown: false });
  });

  it("never puts the access token in an error", async () => {
    const leaky = graphError(401, 190, `Invalid OAuth access token ${TOKEN}`);
    const { client } = fakeMeta(leaky);
    const err = (await rejection(client.sendTemplate("mm_lite", PHONE, msg))) as MetaApiError;
    expect(err.classification).toMatchObject({ kind: "permanent", operatorAlert: true });
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(TOKEN);

    const net = new MetaClient({
      baseUrl: BASE,
      accessToken: TOKEN,
      fetch: () => Promise.reject(new Error(`failed with Bearer ${TOKEN}`)),
    });
    const e2 = (await rejection(net.sendTemplate("mm_lite", PHONE, msg))) as MetaUnreachableError;
    expect(e2.message).not.toContain(TOKEN);
  });

  it("refuses a malformed recipient before calling Meta", async () => {
    const { seen, client } = fakeMeta(accepted);
    await expect(client.sendTemplate("mm_lite", PHONE, { ...msg, to: "not a number" })).rejects.toThrow(
      TypeError,
    );
    expect(seen).toHaveLength(0);
  });
});

describe("buildTemplateMessageBody", () => {
  it("empty params → no components", () => {
    const body = buildTemplateMessageBody("cloud_api", {
      to: "+14155552671",
      template: { name: "hi", language: "en_US", params: [] },
    });
    expect(body).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "14155552671",
      type: "template",
      template: { name: "hi", language: { code: "en_US" } },
    });
  });

  it("passes components through and adds the body from params", () => {
    const header = { type: "header", parameters: [{ type: "image", image: { link: "https://x/y.png" } }] };
    const button = {
      type: "button",
      sub_type: "url",
      index: "0",
      parameters: [{ type: "text", text: "abc" }],
    };
    const body = buildTemplateMessageBody("mm_lite", {
      to: "+5511999990001",
      template: { name: "promo", language: "pt_BR", params: ["Ana"], components: [header, button] },
    });
    expect(body.template.components).toEqual([
      header,
      button,
      { type: "body", parameters: [{ type: "text", text: "Ana" }] },
    ]);
    expect(body.product_policy).toBe("STRICT");
  });

  it("components alone are sent as given", () => {
    const components = [{ type: "body", parameters: [{ type: "currency", currency: { code: "BRL" } }] }];
    const body = buildTemplateMessageBody("cloud_api", {
      to: "+5511999990001",
      template: { name: "p", language: "pt_BR", components },
    });
    expect(body.template.components).toEqual(components);
  });

  it("refuses body parameters given twice", () => {
    expect(() =>
      buildTemplateMessageBody("cloud_api", {
        to: "+5511999990001",
        template: {
          name: "p",
          language: "pt_BR",
          params: ["a"],
          components: [{ type: "BODY", parameters: [] }],
        },
      }),
    ).toThrow(TypeError);
  });

  it("named placeholders carry parameter_name; positional ones do not", () => {
    const named = buildTemplateMessageBody("mm_lite", {
      to: "+5511999990001",
      template: {
        name: "p",
        language: "pt_BR",
        params: ["Ana", "10%"],
        paramNames: ["first_name", "discount"],
      },
    });
    expect(named.template.components).toEqual([
      {
        type: "body",
        parameters: [
          { type: "text", parameter_name: "first_name", text: "Ana" },
          { type: "text", parameter_name: "discount", text: "10%" },
        ],
      },
    ]);
    const positional = buildTemplateMessageBody("mm_lite", {
      to: "+5511999990001",
      template: { name: "p", language: "pt_BR", params: ["Ana"], paramNames: ["1"] },
    });
    expect(positional.template.components).toEqual([
      { type: "body", parameters: [{ type: "text", text: "Ana" }] },
    ]);
  });
});

describe("getWabaOnboardingStatus", () => {
  it("asks for both fields; ONBOARDED in either counts", async () => {
    const { seen, client } = fakeMeta(
      json(200, { marketing_messages_onboarding_status: "ONBOARDED", id: WABA }),
      json(200, {
        marketing_messages_onboarding_status: "ELIGIBLE",
        marketing_messages_lite_api_status: "ONBOARDED",
      }),
      json(200, { marketing_messages_onboarding_status: "INELIGIBLE_ON_BEHALF_OF_WABA", id: WABA }),
      json(200, { id: WABA }),
    );
    expect(await client.getWabaOnboardingStatus(WABA)).toEqual({
      onboardingStatus: "ONBOARDED",
      legacyStatus: null,
      onboarded: true,
    });
    expect(await client.getWabaOnboardingStatus(WABA)).toEqual({
      onboardingStatus: "ELIGIBLE",
      legacyStatus: "ONBOARDED",
      onboarded: true,
    });
    expect((await client.getWabaOnboardingStatus(WABA)).onboarded).toBe(false);
    expect(await client.getWabaOnboardingStatus(WABA)).toEqual({
      onboardingStatus: null,
      legacyStatus: null,
      onboarded: false,
    });
    expect(seen[0]).toEqual({
      method: "GET",
      url: `${BASE}/${WABA}?fields=marketing_messages_onboarding_status,marketing_messages_lite_api_status`,
      headers: { authorization: `Bearer ${TOKEN}`, accept: "application/json" },
      body: "",
    });
  });

  it("a Graph rate limit is a throttled MetaApiError", async () => {
    const { client } = fakeMeta(graphError(400, 80007, "(#80007) There have been too many calls"));
    const err = (await rejection(client.getWabaOnboardingStatus(WABA))) as MetaApiError;
    expect(err.classification).toEqual({ kind: "throttled", code: 80007, scope: "graph" });
  });
});

const tpl = (name: string, language: string, extra: Record<string, unknown> = {}) => ({
  id: `${name}-${language}`,
  name,
  language,
  status: "APPROVED",
  category: "MARKETING",
  components: [{ type: "BODY", text: "Oi {{1}}, até {{2}}!" }],
  ...extra,
});

describe("templates", () => {
  const firstUrl = `${BASE}/${WABA}/message_templates?name=fall_sale&fields=id,name,language,status,category,components&limit=100`;

  it("findTemplate follows paging.next over 3 pages and matches name and language exactly", async () => {
    const { seen, client } = fakeMeta(
      json(200, {
        data: [tpl("fall_sale", "en_US"), tpl("fall_sale_2", "pt_BR")],
        paging: {
          cursors: { after: "c1" },
          next: `${BASE}/${WABA}/message_templates?name=fall_sale&after=c1`,
        },
      }),
      json(200, {
        data: [tpl("fall_sale", "es")],
        // Meta writes its own host; the client must stay on its base (the token goes nowhere else).
        paging: {
          next: `https://graph.facebook.com/v25.0/${WABA}/message_templates?name=fall_sale&after=c2`,
        },
      }),
      json(200, { data: [tpl("fall_sale", "pt_BR")], paging: { cursors: { before: "c2" } } }),
    );
    const found = await client.findTemplate(WABA, "fall_sale", "pt_BR");
    expect(found).toEqual({
      id: "fall_sale-pt_BR",
      name: "fall_sale",
      language: "pt_BR",
      status: "APPROVED",
      category: "MARKETING",
      components: [{ type: "BODY", text: "Oi {{1}}, até {{2}}!" }],
      paramCount: 2,
      paramNames: ["1", "2"],
    });
    expect(seen.map((s) => s.url)).toEqual([
      firstUrl,
      `${BASE}/${WABA}/message_templates?name=fall_sale&after=c1`,
      `http://meta-sim/v25.0/${WABA}/message_templates?name=fall_sale&after=c2`,
    ]);
    for (const s of seen) expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("findTemplate answers null when no page has it, and encodes the name", async () => {
    const { seen, client } = fakeMeta(json(200, { data: [tpl("a b&c", "en_US")] }));
    expect(await client.findTemplate(WABA, "a b&c", "pt_BR")).toBeNull();
    expect(seen[0]?.url).toBe(
      `${BASE}/${WABA}/message_templates?name=a%20b%26c&fields=id,name,language,status,category,components&limit=100`,
    );
  });

  it("paging is bounded and never loops", async () => {
    let n = 0;
    const endless = () =>
      Response.json({ data: [], paging: { next: `${BASE}/${WABA}/message_templates?after=${n++}` } });
    const { seen, client } = fakeMeta(endless);
    expect(await client.listTemplates(WABA, { maxPages: 5 })).toEqual([]);
    expect(seen).toHaveLength(5);

    const loop = () =>
      Response.json({ data: [], paging: { next: `${BASE}/${WABA}/message_templates?after=same` } });
    const second = fakeMeta(loop);
    await second.client.listTemplates(WABA);
    expect(second.seen).toHaveLength(2);
  });

  it("listTemplates filters by status and category, at Meta and here", async () => {
    const { seen, client } = fakeMeta(
      json(200, {
        data: [
          tpl("a", "pt_BR"),
          tpl("b", "pt_BR", { status: "PAUSED" }),
          tpl("c", "en", { category: "UTILITY" }),
        ],
        paging: { next: `${BASE}/${WABA}/message_templates?after=x` },
      }),
      json(200, { data: [tpl("d", "es", { components: [] })] }),
    );
    const list = await client.listTemplates(WABA, { status: "APPROVED", category: "MARKETING" });
    expect(list.map((t) => [t.name, t.paramCount])).toEqual([
      ["a", 2],
      ["d", 0],
    ]);
    expect(seen[0]?.url).toBe(
      `${BASE}/${WABA}/message_templates?fields=id,name,language,status,category,components&limit=100&status=APPROVED&category=MARKETING`,
    );
  });

  it("an answer without data is a bad response", async () => {
    const { client } = fakeMeta(json(200, { templates: [] }));
    const err = (await rejection(client.listTemplates(WABA))) as MetaUnreachableError;
    expect(err).toMatchObject({ name: "MetaUnreachableError", reason: "bad_response" });
  });
});

describe("countTemplateParams", () => {
  it.each([
    [[{ type: "BODY", text: "Hi {{1}}, your code {{2}} expires {{3}}" }], 3],
    [[{ type: "BODY", text: "{{1}} and again {{1}}" }], 1],
    [[{ type: "BODY", text: "Oi {{first_name}}, {{ discount }} off" }], 2],
    [[{ type: "body", text: "lower-case type {{1}}" }], 1],
    [
      [
        { type: "HEADER", format: "TEXT", text: "Header {{1}}" },
        { type: "BODY", text: "No params" },
      ],
      0,
    ],
    [[{ type: "HEADER", text: "{{1}}" }], 0],
    [[{ type: "BODY" }], 0],
    [[], 0],
    [undefined, 0],
    ["BODY {{1}}", 0],
    [[null, 3, { type: "BODY", text: "{{1}}{{2}}" }], 2],
  ])("%j → %i", (components, count) => {
    expect(countTemplateParams(components)).toBe(count);
  });

  it("names come in order of first appearance", () => {
    expect(templateParamNames([{ type: "BODY", text: "{{2}} {{1}} {{2}} {{name}}" }])).toEqual([
      "2",
      "1",
      "name",
    ]);
  });
});
