import { describe, expect, it } from "vitest";
import { AppError } from "../../src/lib/errors";
import { decideWithoutStatus, decideWithStatus, validateTemplate } from "../../src/routing/decide";
import type { RouteDecision, RoutingContext, TemplateInfo, WabaStatusAnswer } from "../../src/routing/types";

const marketing: TemplateInfo = {
  name: "fall_sale",
  language: "pt_BR",
  status: "APPROVED",
  category: "MARKETING",
  paramCount: 2,
};

function ctx(over: Partial<RoutingContext> = {}): RoutingContext {
  return {
    requestedRoute: "auto",
    botRestricted: false,
    template: marketing,
    syncPendingUntil: null,
    ...over,
  };
}

/** The whole decision, with a status answer that is only consulted when the rules ask for it. */
function decide(c: RoutingContext, status: WabaStatusAnswer): RouteDecision | { refused: string } {
  try {
    const pre = decideWithoutStatus(c);
    return pre.kind === "decided" ? pre.decision : decideWithStatus(c, status);
  } catch (err) {
    if (err instanceof AppError) return { refused: err.code };
    throw err;
  }
}

const statuses: Record<string, WabaStatusAnswer> = {
  activated: { state: "active", activatedNow: true },
  active: { state: "active", activatedNow: false },
  not_onboarded: { state: "not_onboarded", activatedNow: false },
  unavailable: { state: "unavailable", activatedNow: false },
};

describe("validateTemplate", () => {
  const wanted = { name: "fall_sale", language: "pt_BR" };
  it("refuses an unknown template", () => {
    expect(() => validateTemplate(null, wanted, 2)).toThrow(
      expect.objectContaining({ code: "template_not_found", status: 422 }),
    );
  });
  it.each(["PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL"])("refuses a %s template", (status) => {
    expect(() => validateTemplate({ ...marketing, status }, wanted, 2)).toThrow(
      expect.objectContaining({
        code: "template_not_approved",
        detail: `fall_sale (pt_BR) is ${status} at Meta`,
      }),
    );
  });
  it("refuses a parameter count that differs", () => {
    for (const n of [0, 1, 3]) {
      expect(() => validateTemplate(marketing, wanted, n)).toThrow(
        expect.objectContaining({ code: "template_params_mismatch" }),
      );
    }
  });
  it("accepts an approved template with the right count, or an unchecked count", () => {
    expect(validateTemplate(marketing, wanted, 2)).toBe(marketing);
    expect(validateTemplate(marketing, wanted, null)).toBe(marketing);
  });
});

describe("the routing decision", () => {
  it("bot restriction wins over everything, whatever the status or requested route", () => {
    for (const requestedRoute of ["auto", "cloud_api"] as const) {
      for (const s of Object.values(statuses)) {
        for (const category of ["MARKETING", "UTILITY"]) {
          expect(
            decide(ctx({ botRestricted: true, requestedRoute, template: { ...marketing, category } }), s),
          ).toEqual({
            route: "cloud_api",
            reason: "bot_restricted",
          });
        }
      }
    }
  });

  it("non-marketing templates go through the Cloud API without asking for the status", () => {
    for (const category of ["UTILITY", "AUTHENTICATION"]) {
      for (const requestedRoute of ["auto", "cloud_api"] as const) {
        const pre = decideWithoutStatus(ctx({ requestedRoute, template: { ...marketing, category } }));
        expect(pre).toEqual({
          kind: "decided",
          decision: { route: "cloud_api", reason: "template_not_marketing" },
        });
      }
    }
  });

  it("marketing on auto follows the WABA status", () => {
    expect(decideWithoutStatus(ctx())).toEqual({ kind: "needs_status" });
    expect(decide(ctx(), statuses.active as WabaStatusAnswer)).toEqual({
      route: "mm_lite",
      reason: "mm_lite_active",
    });
    expect(decide(ctx(), statuses.activated as WabaStatusAnswer)).toEqual({
      route: "mm_lite",
      reason: "mm_lite_activated",
    });
    expect(decide(ctx(), statuses.not_onboarded as WabaStatusAnswer)).toEqual({
      route: "cloud_api",
      reason: "waba_not_onboarded",
    });
    expect(decide(ctx(), statuses.unavailable as WabaStatusAnswer)).toEqual({
      route: "cloud_api",
      reason: "meta_status_unavailable",
    });
  });

  it("a sync window sends marketing through the Cloud API without asking Meta", () => {
    const c = ctx({ syncPendingUntil: "2026-11-30T12:00:00.000Z" });
    expect(decideWithoutStatus(c)).toEqual({
      kind: "decided",
      decision: { route: "cloud_api", reason: "mm_lite_sync_pending" },
    });
  });

  it("cloud_api requested: refused once MM Lite is active, else cloud_api_requested", () => {
    const c = ctx({ requestedRoute: "cloud_api" });
    expect(decideWithoutStatus(c)).toEqual({ kind: "needs_status" });
    expect(decide(c, statuses.active as WabaStatusAnswer)).toEqual({ refused: "mm_lite_required" });
    expect(decide(c, statuses.activated as WabaStatusAnswer)).toEqual({ refused: "mm_lite_required" });
    expect(decide(c, statuses.not_onboarded as WabaStatusAnswer)).toEqual({
      route: "cloud_api",
      reason: "cloud_api_requested",
    });
    expect(decide(c, statuses.unavailable as WabaStatusAnswer)).toEqual({
      route: "cloud_api",
      reason: "cloud_api_requested",
    });
    // During a sync window MM Lite is not active yet: the request is honoured.
    expect(
      decide({ ...c, syncPendingUntil: "2026-11-30T12:00:00.000Z" }, statuses.active as WabaStatusAnswer),
    ).toEqual({
      route: "cloud_api",
      reason: "cloud_api_requested",
    });
  });

  it("every combination yields exactly one known outcome, and MM Lite only for active marketing on auto", () => {
    const seen = new Set<string>();
    for (const botRestricted of [false, true])
      for (const category of ["MARKETING", "UTILITY", "AUTHENTICATION"])
        for (const requestedRoute of ["auto", "cloud_api"] as const)
          for (const syncPendingUntil of [null, "2026-11-30T12:00:00.000Z"])
            for (const [name, s] of Object.entries(statuses)) {
              const c = ctx({
                botRestricted,
                requestedRoute,
                syncPendingUntil,
                template: { ...marketing, category },
              });
              const out = decide(c, s);
              const key = "refused" in out ? out.refused : out.reason;
              seen.add(key);
              const mmLite = "route" in out && out.route === "mm_lite";
              const expectMmLite =
                !botRestricted &&
                category === "MARKETING" &&
                requestedRoute === "auto" &&
                !syncPendingUntil &&
                name.startsWith("activ");
              expect(mmLite, JSON.stringify({ c, name })).toBe(expectMmLite);
            }
    expect([...seen].sort()).toEqual(
      [
        "bot_restricted",
        "cloud_api_requested",
        "meta_status_unavailable",
        "mm_lite_activated",
        "mm_lite_active",
        "mm_lite_required",
        "mm_lite_sync_pending",
        "template_not_marketing",
        "waba_not_onboarded",
      ].sort(),
    );
  });
});
