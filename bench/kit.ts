/**
 * What run.ts hands to the sections that live in their own files (webhooks.ts, report.ts): its
 * report writers, settings and helpers. Passed as a value rather than imported, because run.ts runs
 * the bench when it is loaded and must not be imported by its own sections.
 */
import type { Inspector } from "./inspector";
import type { Sim } from "./servers";

/** The gateway as the e2e harness started it (the part the sections use). */
export interface KitGateway {
  url: string;
  adminToken: string;
  persistDir: string;
  logs(): string;
}

/** run.ts's Env, structurally. */
export interface SectionEnv {
  gw: KitGateway;
  sim: Sim;
  inspector: Inspector | null;
}

export interface Kit {
  /** Console only. */
  say(s?: string): void;
  /** Console and RESULTS.md. */
  note(s: string): void;
  /** A row of the summary table (pass null: for reading, no target). */
  verdict(figure: string, value: string, target: string, pass: boolean | null): void;
  /** A BENCH_<NAME> setting, or the `--name=value` argument. */
  setting(name: string, fallback: string): string;
  /** The same, as a non-negative integer. */
  int(name: string, fallback: number): number;
  /** A fresh WABA and number at the simulator (its own stats), with the bench template. */
  simNumber(sim: Sim, label: string, cap?: number): Promise<{ wabaId: string; phoneNumberId: string }>;
  /** A bot on that number; returns its API key. */
  createBot(
    gw: KitGateway,
    label: string,
    n: { wabaId: string; phoneNumberId: string },
    mps: number,
  ): Promise<string>;
  /** Process group of the gateway's wrangler (for /proc figures). */
  gatewayPgid(gw: KitGateway): number;
  /** Waits until the simulator answers its stats within a second (a flood is over). */
  simSettled(sim: Sim): Promise<void>;
  retrying<T>(fn: () => Promise<T>, attempts?: number): Promise<T>;
  /** The bench template (2 body parameters) and the app secret the gateway was started with. */
  template: { name: string; language: string };
  appSecret: string;
}

export const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
export const mb = (b: number) => (Number.isFinite(b) ? `${(b / 1024 / 1024).toFixed(1)} MB` : "n/a");
