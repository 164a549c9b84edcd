import type { TemplateInfo } from "../routing/types";

/** Every KV key and TTL lives here (documented in ./README.md). */
export const kvKeys = {
  wabaStatus: (wabaId: string) => `waba-status:${wabaId}`,
  template: (wabaId: string, name: string, language: string) => `tpl:${wabaId}:${name}:${language}`,
};

export const kvTtl = {
  statusActive: 24 * 3600,
  statusNotOnboarded: 5 * 60,
  templateFound: 3600,
  templateMissing: 60,
};

export interface CachedWabaStatus {
  state: "active" | "not_onboarded";
  onboardingStatus: string | null;
  legacyStatus: string | null;
  checkedAt: string;
}

export type CachedTemplate = { found: true; template: TemplateInfo } | { found: false };
