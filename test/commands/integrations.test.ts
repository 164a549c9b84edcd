import { describe, expect, it } from "vitest";
import { setupBot, type TestBot } from "../helpers";
import { addTemplates, command, sendsAtMeta, untilDone } from "./helpers";

/**
 * End to end: bodies written exactly as public integrations write them (see the list in
 * src/commands/full-campaign.ts), through POST /commands, the queue and the Meta simulator. Each
 * check reads what the simulator received: template, language and the parameters in order.
 */

const tpl = (name: string, bodyText: string, language = "pt_BR") => ({
  name,
  language,
  status: "APPROVED",
  category: "MARKETING",
  bodyText,
});

async function sent(bot: TestBot, answer: any) {
  expect(answer.status, JSON.stringify(answer.reason)).toBe("success");
  const done = await untilDone(bot, answer.resource.id);
  expect(done.status).toBe("completed");
  return (await sendsAtMeta(bot)).map((m) => ({
    to: m.to,
    template: m.template,
    language: m.language,
    params: m.params,
  }));
}

describe("bodies as public integrations send them", () => {
  it("Andrevlopess/blip-api-client (SDK): Batch, masterstate, UUID flow/state, no language", async () => {
    const bot = await setupBot();
    // BlipTransport.sendCommand posts { id, ...body }; CampaignResources.create builds the body.
    const { body } = await command(bot, {
      id: "6f1f0f5e-3a0c-4b8e-9a61-0d5d4a8c2b11",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          campaignType: "Batch",
          name: "black-friday",
          flowId: "0b7e3d0e-6d7b-4a53-8a35-1f1f4e0d9c21",
          stateId: "3c9a4f5e-2b1d-4e8f-9a7c-6d5e4f3a2b10",
          masterstate: "router@msging.net",
          channelType: "WhatsApp",
        },
        audiences: [
          { recipient: "+5511999990001", messageParams: { "1": "Ana", "2": "15/08" } },
          { recipient: "+5511999990002", messageParams: { "1": "Bia", "2": "16/08" } },
        ],
        message: { messageTemplate: "fall_sale", channelType: "WhatsApp", messageParams: ["1", "2"] },
      },
    });
    expect((await sent(bot, body)).sort((a, b) => a.to.localeCompare(b.to))).toEqual([
      { to: "5511999990001", template: "fall_sale", language: "pt_BR", params: ["Ana", "15/08"] },
      { to: "5511999990002", template: "fall_sale", language: "pt_BR", params: ["Bia", "16/08"] },
    ]);
  });

  it('skepsdigital/LimpezaDeBase (C#): "method":"SET", masterState, keys of the first row, params left out', async () => {
    const bot = await setupBot();
    // System.Text.Json in declaration order; JsonIgnore(WhenWritingNull) drops null messageParams.
    const json =
      '{"id":"8b0e0c4e-1f42-4f0b-9d43-4d7f0a0b9e77","to":"postmaster@activecampaign.msging.net","method":"SET",' +
      '"uri":"/campaign/full","type":"application/vnd.iris.activecampaign.full-campaign+json","resource":{' +
      '"campaign":{"name":"Limpeza 2024-11","campaignType":"Batch","flowId":"9d1f6b1e-0000-4000-8000-000000000001",' +
      '"stateId":"9d1f6b1e-0000-4000-8000-000000000002","masterState":"roteador@msging.net","channelType":"WhatsApp"},' +
      '"audiences":[{"recipient":"+5511999990001","messageParams":{"1":"Ana","2":"15/08"}},' +
      '{"recipient":"+5511999990002","messageParams":{"1":"Bia","2":"16/08"}}],' +
      '"message":{"messageTemplate":"fall_sale","messageParams":["1","2"],"channelType":"WhatsApp"}}}';
    const { body } = await command(bot, json);
    expect(body.method).toBe("set");
    expect((await sent(bot, body)).map((m) => m.params).sort()).toEqual([
      ["Ana", "15/08"],
      ["Bia", "16/08"],
    ]);

    // A template without variables: no messageParams anywhere.
    const bare = await setupBot();
    const noParams =
      '{"id":"8b0e0c4e-1f42-4f0b-9d43-4d7f0a0b9e78","to":"postmaster@activecampaign.msging.net","method":"SET",' +
      '"uri":"/campaign/full","type":"application/vnd.iris.activecampaign.full-campaign+json","resource":{' +
      '"campaign":{"name":"Limpeza hello","campaignType":"Batch","flowId":"f","stateId":"s",' +
      '"masterState":"roteador@msging.net","channelType":"WhatsApp"},' +
      '"audiences":[{"recipient":"+5511999990003"}],' +
      '"message":{"messageTemplate":"no_params","channelType":"WhatsApp"}}}';
    const second = await command(bare, noParams);
    expect(await sent(bare, second.body)).toEqual([
      { to: "5511999990003", template: "no_params", language: "en_US", params: [] },
    ]);
  });

  it("teleksistemas/hidramais-disparo-ativo (VTEX): Batch of one, extra keys not in the list", async () => {
    const bot = await setupBot();
    await addTemplates(bot, [
      tpl("pedido_ready_for_handling_v1", "Olá {{1}}, pedido {{2}} de {{3}} em preparo"),
    ]);
    const orderDetails = JSON.stringify({ status: "Pronto", numero_pedido: "v774982crb-01", produtos: [] });
    const { body } = await command(bot, {
      id: "1c7b8c5e-49a1-4bb1-8b4e-2f5a0d3c9e12",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: "Hidramais 0e5c2f0e-8a3b-4a52-9f0c-1b2d3e4f5a6b",
          campaignType: "Batch",
          flowId: "flow-id",
          stateId: "onboarding",
          masterstate: "hidramais@msging.net",
          channelType: "WhatsApp",
          sourceApplication: "API de Alerta Webhook VTEX",
        },
        audiences: [
          {
            recipient: "+5511996477171",
            messageParams: {
              order: "v774982crb-01",
              "1": "Regina Saad",
              "2": "v774982crb-01",
              "3": "26/08/2024",
              pedido: orderDetails,
            },
          },
        ],
        message: {
          messageTemplate: "pedido_ready_for_handling_v1",
          messageParams: ["1", "2", "3"],
          channelType: "WhatsApp",
        },
      },
    });
    expect(body.resource).toMatchObject({ campaignType: "Individual", total: 1 });
    expect(await sent(bot, body)).toEqual([
      {
        to: "5511996477171",
        template: "pedido_ready_for_handling_v1",
        language: "pt_BR",
        params: ["Regina Saad", "v774982crb-01", "26/08/2024"],
      },
    ]);
  });

  it("teleksistemas/fundacao-bradesco-back-end (RabbitMQ worker): String(i + 1) keys, masterstate", async () => {
    const bot = await setupBot();
    await addTemplates(bot, [tpl("aviso_escola", "Responsável {{1}}, aluno {{2}}")]);
    const targets = [
      { mobileNumber: "5511999990001", name: "Maria", student: "João" },
      { mobileNumber: "5511999990002", name: "Paulo", student: "Ana" },
    ];
    const { body } = await command(bot, {
      id: "d1c0e7a4-3b9f-4d2b-8f7e-6a5b4c3d2e1f",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: `Fundação Bradesco_Group_${Date.now()}_0c1d2e3f`,
          campaignType: "Batch",
          flowId: "flow",
          stateId: "state",
          masterstate: "roteador@msging.net",
          channelType: "WhatsApp",
        },
        audiences: targets.map((t) => ({
          recipient: `+${t.mobileNumber}`,
          messageParams: { "1": String(t.name ?? ""), "2": String(t.student ?? "") },
        })),
        message: {
          messageTemplate: "aviso_escola",
          messageParams: ["name", "student.name"].map((_, i) => String(i + 1)),
          channelType: "WhatsApp",
        },
      },
    });
    expect((await sent(bot, body)).map((m) => [m.to, m.params]).sort()).toEqual([
      ["5511999990001", ["Maria", "João"]],
      ["5511999990002", ["Paulo", "Ana"]],
    ]);
  });

  it("metrix0/EngravidaHub: Individual, sourceApplication, masterstate, keys from the template", async () => {
    const bot = await setupBot();
    const { body } = await command(bot, {
      id: "4a3b2c1d-0e9f-4a8b-b7c6-d5e4f3a2b1c0",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: "engravida-hub-follow_up-7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
          campaignType: "Individual",
          flowId: "flow",
          stateId: "state",
          masterstate: "engravida@msging.net",
          channelType: "WhatsApp",
          sourceApplication: "API",
        },
        audience: { recipient: "+5511999990004", messageParams: { "2": "sexta", "1": "Júlia" } },
        message: { messageTemplate: "fall_sale", messageParams: ["1", "2"], channelType: "WhatsApp" },
      },
    });
    expect(body.resource).toMatchObject({ campaignType: "Individual", messageTemplateLanguage: "pt_BR" });
    expect(await sent(bot, body)).toEqual([
      { to: "5511999990004", template: "fall_sale", language: "pt_BR", params: ["Júlia", "sexta"] },
    ]);
  });

  it("Java service (br.dev.ctrls.inovareti): Individual, masterState, language, no flowId", async () => {
    const bot = await setupBot();
    // Map.of: no key order at all — the order comes from message.messageParams.
    const json =
      '{"type":"application/vnd.iris.activecampaign.full-campaign+json","uri":"/campaign/full",' +
      '"resource":{"message":{"channelType":"WhatsApp","messageParams":["1","2"],"messageTemplateLanguage":"pt_BR",' +
      '"messageTemplate":"fall_sale"},"audience":{"messageParams":{"2":"15/08 às 14:00","1":"Carlos"},' +
      '"recipient":"+5542999998888"},"campaign":{"name":"Campanha Teste","campaignType":"Individual",' +
      '"channelType":"WhatsApp","sourceApplication":"Inovare-ITSM","masterState":"fluxov1@msging.net",' +
      '"stateId":"a0776d9c-6486-42f3-8a4f-2706f0185908"}},"id":"0f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",' +
      '"method":"set","to":"postmaster@activecampaign.msging.net"}';
    const { body } = await command(bot, json);
    expect(await sent(bot, body)).toEqual([
      { to: "5542999998888", template: "fall_sale", language: "pt_BR", params: ["Carlos", "15/08 às 14:00"] },
    ]);
  });

  it("Node script: Individual, numeric message.messageParams [1, 2, 3, 4], no campaign channelType", async () => {
    const bot = await setupBot();
    await addTemplates(bot, [tpl("visita_tecnica", "Olá {{1}}, visita em {{2}} às {{3}} no endereço {{4}}")]);
    const dados = {
      phone: "11999990005",
      nome: "Rafael",
      dataPrevista: "20/08",
      horaPrevista: "14h",
      endereco: "Rua A, 10",
    };
    const { body } = await command(bot, {
      id: "9e8d7c6b-5a49-4382-b716-05f4e3d2c1b0",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: "2b3c4d5e-6f70-4819-a2b3-c4d5e6f70819",
          campaignType: "Individual",
          flowId: "877f8902-7c82-4ca0-8e99-9e401a404751",
          stateId: "bloco-1",
          masterState: "roteador@msging.net",
        },
        audience: {
          recipient: `+55${dados.phone}`,
          messageParams: {
            "1": dados.nome,
            "2": dados.dataPrevista,
            "3": dados.horaPrevista,
            "4": dados.endereco,
          },
        },
        message: { messageTemplate: "visita_tecnica", messageParams: [1, 2, 3, 4], channelType: "WhatsApp" },
      },
    });
    expect(await sent(bot, body)).toEqual([
      {
        to: "5511999990005",
        template: "visita_tecnica",
        language: "pt_BR",
        params: ["Rafael", "20/08", "14h", "Rua A, 10"],
      },
    ]);
  });

  it("Node script: Individual with a language and no messageParams at all", async () => {
    const bot = await setupBot();
    const id = "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706";
    const { body } = await command(bot, {
      id,
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: `test-auth${id}`,
          masterState: "syrdigitodev@msging.net",
          campaignType: "Individual",
          flowId: "65830bf6-05ec-420f-b23c-aa1f82f31964",
          stateId: "onboarding",
        },
        audience: { recipient: "+5511999990006" },
        message: { messageTemplate: "no_params", messageTemplateLanguage: "en_US" },
      },
    });
    expect(await sent(bot, body)).toEqual([
      { to: "5511999990006", template: "no_params", language: "en_US", params: [] },
    ]);
  });

  it("PHP (Guzzle): Batch with six parameters, masterState, no channelType anywhere", async () => {
    const bot = await setupBot();
    await addTemplates(bot, [
      tpl("oferta_emprego", "{{1}} em {{2}} às {{3}}, {{4}}, contato {{5}}, R$ {{6}}"),
    ]);
    const values = ["Feira", "21/08", "09h", "Av. B, 1", "Lia", "150"];
    const messageParams = Object.fromEntries(values.map((v, i) => [String(i + 1), v]));
    const { body } = await command(bot, {
      id: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: "Disparo da oferta empprego via campaignFeira",
          campaignType: "Batch",
          flowId: "flow",
          stateId: "state",
          masterState: "ofertadeemprego@msging.net",
        },
        audiences: ["5511999990007", "5511999990008"].map((n) => ({ recipient: n, messageParams })),
        message: { messageTemplate: "oferta_emprego", messageParams: ["1", "2", "3", "4", "5", "6"] },
      },
    });
    const got = await sent(bot, body);
    expect(got.map((m) => m.to).sort()).toEqual(["5511999990007", "5511999990008"]);
    for (const m of got) expect(m.params).toEqual(values);
  });

  it("a WhatsApp identity as recipient, numbers as values", async () => {
    const bot = await setupBot();
    const { body } = await command(bot, {
      id: "ident-1",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: { name: "ids", campaignType: "Batch" },
        audiences: [{ recipient: "5511999990009@wa.gw.msging.net", messageParams: { "1": 42, "2": 3.5 } }],
        message: { messageTemplate: "fall_sale", messageParams: ["1", "2"] },
      },
    });
    expect(await sent(bot, body)).toEqual([
      { to: "5511999990009", template: "fall_sale", language: "pt_BR", params: ["42", "3.5"] },
    ]);
  });

  it('a header media key "0" (deflaction script) is refused with a reason, nothing sent', async () => {
    const bot = await setupBot();
    await addTemplates(bot, [tpl("deflaction", "Continue pelo WhatsApp")]);
    const { body } = await command(bot, {
      id: "004211",
      to: "postmaster@activecampaign.msging.net",
      method: "set",
      uri: "/campaign/full",
      type: "application/vnd.iris.activecampaign.full-campaign+json",
      resource: {
        campaign: {
          name: "[CALL DEFLACTION]- 004211",
          campaignType: "Individual",
          flowId: "96fe3041-7853-4d47-a5b6-2d53cd448429",
          stateId: "4b97cffa-d6ba-4741-a04f-ff6b39ad0993",
          masterstate: "maintelecom@msging.net",
        },
        audience: { recipient: "+5511999990010", messageParams: { "0": "https://media.example/x.jpg" } },
        message: {
          messageTemplate: "deflaction",
          channelType: "WHATSAPP",
          messageTemplateLanguage: "pt_BR",
          messageParams: ["0"],
        },
      },
    });
    expect(body).toMatchObject({ status: "failure", reason: { code: 11 } });
    expect(body.reason.description).toMatch(
      /takes 0 body parameter\(s\).*Header media parameters are not supported/,
    );
    expect(await sendsAtMeta(bot)).toEqual([]);
  });
});
