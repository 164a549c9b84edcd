// Webhook emission: Meta's payload shapes, HMAC signatures, failed statuses, pricing by product,
// batching, duplication and shuffling.
import { beforeEach, describe, expect, it } from "vitest";
import {
  APP_SECRET,
  control,
  graph,
  hmacHex,
  type Json,
  PHONE,
  setupWaba,
  TO,
  templateSend,
  WABA,
} from "./helpers";

beforeEach(async () => {
  await control("POST", "/reset");
});

async function sendBoth() {
  await setupWaba({ onboarded: true });
  const lite = await graph(
    "POST",
    `/${PHONE}/marketing_messages`,
    templateSend("fall_sale", ["Ana", "15/08"]),
  );
  const cloud = await graph("POST", `/${PHONE}/messages`, templateSend("order_update", ["#42"]));
  return { lite: lite.body.messages[0].id as string, cloud: cloud.body.messages[0].id as string };
}

const emit = (body: Record<string, unknown>) => control("POST", "/webhooks/emit", { dryRun: true, ...body });

describe("status webhooks", () => {
  it("are Meta-shaped and signed with HMAC-SHA256 of the raw body", async () => {
    const { lite } = await sendBoth();
    const r = await emit({ wamids: [lite], statuses: ["delivered"], timestamp: 1750030073 });
    expect(r.unknownWamids).toEqual([]);
    expect(r.posted).toHaveLength(1);
    const hook = r.posted[0];
    expect(hook.status).toBeUndefined();
    expect(hook.signature).toBe(`sha256=${await hmacHex(APP_SECRET, hook.body)}`);
    expect(JSON.parse(hook.body)).toEqual({
      object: "whatsapp_business_account",
      entry: [
        {
          id: WABA,
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: { display_phone_number: "15550783881", phone_number_id: PHONE },
                statuses: [
                  {
                    id: lite,
                    status: "delivered",
                    timestamp: "1750030073",
                    recipient_id: TO,
                    pricing: {
                      billable: true,
                      pricing_model: "PMP",
                      type: "regular",
                      category: "marketing_lite",
                    },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
  });

  it("pricing.category says which product carried the message", async () => {
    await setupWaba(); // not onboarded: MM Lite sends fall back to the Cloud API
    const fb = await graph("POST", `/${PHONE}/marketing_messages`, templateSend("fall_sale", ["a", "b"]));
    const ut = await graph("POST", `/${PHONE}/messages`, templateSend("order_update", ["#1"]));
    await control("PUT", `/wabas/${WABA}`, { onboardingStatus: "ONBOARDED" });
    const lite = await graph("POST", `/${PHONE}/marketing_messages`, templateSend("fall_sale", ["a", "b"]));
    const ids = [fb, ut, lite].map((r) => r.body.messages[0].id);
    const r = await emit({ wamids: ids, statuses: ["sent"] });
    const categories = r.posted.map(
      (h: Json) => JSON.parse(h.body).entry[0].changes[0].value.statuses[0].pricing.category,
    );
    expect(categories).toEqual(["marketing", "utility", "marketing_lite"]);
  });

  it("default statuses sent → delivered → read, status-major; read carries no pricing", async () => {
    const { lite, cloud } = await sendBoth();
    const r = await emit({});
    const seq = r.posted.map((h: Json) => {
      const s = JSON.parse(h.body).entry[0].changes[0].value.statuses[0];
      return `${s.status}:${s.id === lite ? "lite" : s.id === cloud ? "cloud" : "?"}:${"pricing" in s}`;
    });
    expect(seq).toEqual([
      "sent:lite:true",
      "sent:cloud:true",
      "delivered:lite:true",
      "delivered:cloud:true",
      "read:lite:false",
      "read:cloud:false",
    ]);
  });

  it("failed statuses carry Meta's errors array", async () => {
    const { cloud } = await sendBoth();
    const r = await emit({ wamids: [cloud], fail: { code: 131049, title: "Healthy ecosystem" } });
    const s = JSON.parse(r.posted[0].body).entry[0].changes[0].value.statuses[0];
    expect(s.status).toBe("failed");
    expect(s.pricing).toBeUndefined();
    expect(s.errors).toEqual([
      {
        code: 131049,
        title: "Healthy ecosystem",
        message: "Healthy ecosystem",
        error_data: { details: "Healthy ecosystem" },
      },
    ]);
    const d = await emit({ wamids: [cloud], statuses: ["failed"], fail: { code: 131050 } });
    const e = JSON.parse(d.posted[0].body).entry[0].changes[0].value.statuses[0].errors[0];
    expect(e.code).toBe(131050);
    expect(e.title).toMatch(/chosen to stop receiving marketing messages/);
  });

  it("batch groups statuses per POST (one entry per WABA, one change per number); duplicate doubles POSTs", async () => {
    await sendBoth();
    await control("PUT", `/wabas/${WABA}`, { phoneNumbers: [{ id: "200000000000001" }] });
    await graph("POST", "/200000000000001/messages", templateSend("order_update", ["#7"]));
    const r = await emit({ statuses: ["sent", "delivered"], batch: 6 });
    expect(r.posted).toHaveLength(1);
    const p = JSON.parse(r.posted[0].body);
    expect(p.entry).toHaveLength(1);
    expect(
      p.entry[0].changes.map((c: Json) => [c.value.metadata.phone_number_id, c.value.statuses.length]),
    ).toEqual([
      [PHONE, 4],
      ["200000000000001", 2],
    ]);
    const d = await emit({ statuses: ["sent"], batch: 2, duplicate: true });
    expect(d.posted.map((h: Json) => h.body)).toEqual([
      d.posted[0].body,
      d.posted[1].body,
      d.posted[0].body,
      d.posted[1].body,
    ]);
  });

  it("shuffle changes the order but not the set; unknown wamids are reported", async () => {
    await setupWaba();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push(
        (await graph("POST", `/${PHONE}/messages`, templateSend("order_update", [`${i}`]))).body.messages[0]
          .id,
      );
    const plain = await emit({ wamids: ids, statuses: ["sent", "delivered", "read"] });
    const mixed = await emit({
      wamids: [...ids, "wamid.nope"],
      statuses: ["sent", "delivered", "read"],
      shuffle: true,
      seed: 7,
    });
    const key = (h: Json) => {
      const s = JSON.parse(h.body).entry[0].changes[0].value.statuses[0];
      return `${s.id}/${s.status}`;
    };
    expect(mixed.unknownWamids).toEqual(["wamid.nope"]);
    expect(mixed.posted.map(key).sort()).toEqual(plain.posted.map(key).sort());
    expect(mixed.posted.map(key)).not.toEqual(plain.posted.map(key));
  });

  it("without dryRun it posts to SIM_GATEWAY_WEBHOOK_URL and reports the outcome", async () => {
    const { lite } = await sendBoth();
    const r = await control("POST", "/webhooks/emit", { wamids: [lite], statuses: ["sent"] });
    // gateway.invalid does not resolve under the test pool: the failure is reported, not thrown.
    expect(r.posted[0].status).toBeUndefined();
    expect(typeof r.posted[0].error).toBe("string");
    expect((await control("GET", "/stats")).webhooks).toEqual({ posted: 0, failed: 1 });
  });
});
