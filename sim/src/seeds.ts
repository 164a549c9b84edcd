// Named fixture sets the simulator can start with (SIM_SEED) or be given later (POST /_sim/seed). Each
// is a list of WABA upserts, exactly what `PUT /_sim/wabas/{id}` takes, so applying one is idempotent.
// Template ids are fixed so a re-seed (after a reset) reproduces the same Graph answers.
import type { TemplateInput, WabaInput } from "./control/schemas";

export interface SeedWaba {
  id: string;
  waba: WabaInput;
}

/** The demo templates; `idBase` keeps ids unique per WABA, as Meta's are. */
function demoTemplates(idBase: number): TemplateInput[] {
  const t = (
    n: number,
    name: string,
    language: string,
    category: TemplateInput["category"],
    status: TemplateInput["status"],
    bodyText: string,
  ): TemplateInput => ({ id: String(idBase + n), name, language, category, status, bodyText });
  return [
    t(1, "fall_sale", "pt_BR", "MARKETING", "APPROVED", "Olá {{1}}, a liquidação vai até {{2}}!"),
    t(2, "fall_sale", "en_US", "MARKETING", "APPROVED", "Hi {{1}}, the sale runs until {{2}}!"),
    t(3, "order_update", "pt_BR", "UTILITY", "APPROVED", "Pedido {{1}} enviado"),
    t(4, "login_code", "en_US", "AUTHENTICATION", "APPROVED", "Your code is {{1}}"),
    t(5, "winter_sale", "pt_BR", "MARKETING", "PENDING", "Oi {{1}}"),
  ];
}

export const SEEDS = {
  /**
   * Two WABAs of business 5060 with the same templates, one per gateway route: 102290129340398 is
   * onboarded to MM Lite (marketing → mm_lite), 102290129340399 only ELIGIBLE (→ cloud_api).
   */
  demo: [
    {
      id: "102290129340398",
      waba: {
        name: "Demo Store",
        onboardingStatus: "ONBOARDED",
        legacyStatus: null,
        ownerBusinessId: "5060",
        phoneNumbers: [{ id: "106540352242922", displayPhoneNumber: "15550783881", throughputMps: 1000 }],
        templates: demoTemplates(810_000_000_000_100),
      },
    },
    {
      id: "102290129340399",
      waba: {
        name: "Demo Store (not onboarded)",
        onboardingStatus: "ELIGIBLE",
        legacyStatus: null,
        ownerBusinessId: "5060",
        phoneNumbers: [{ id: "106540352242923", displayPhoneNumber: "15550783882", throughputMps: 80 }],
        templates: demoTemplates(810_000_000_000_200),
      },
    },
  ],
} satisfies Record<string, SeedWaba[]>;

export type SeedName = keyof typeof SEEDS;
export const SEED_NAMES = Object.keys(SEEDS) as [SeedName, ...SeedName[]];
