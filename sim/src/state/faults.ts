// Fault injection rules: which requests they hit (endpoint / number / WABA), how often (probability,
// next-N count) and what happens (a Meta error code, or a delay that may end in a dropped connection).
// Rules are evaluated in the registry so "next N" counts are exact across every number.
import type { FaultEndpoint } from "../types";

export interface FaultRule {
  id: string;
  /** null = every endpoint. */
  endpoints: FaultEndpoint[] | null;
  phoneNumberId?: string;
  wabaId?: string;
  /** Error fault: answer with this Meta code (HTTP status from the catalogue unless httpStatus). */
  code?: number;
  httpStatus?: number;
  message?: string;
  details?: string;
  /** Timeout fault: wait this long, then answer normally (or drop, see below). */
  timeoutMs?: number;
  drop?: boolean;
  /** With drop: whether Meta accepted the message before the connection broke (the ambiguous case). */
  acceptBeforeDrop?: boolean;
  probability: number;
  /** Remaining firings; null = unlimited. */
  remaining: number | null;
  fired: number;
}

export interface FaultConfig {
  rules: FaultRule[];
  /** Extra latency added to every send answer. */
  sendLatencyMs: number;
  /** When set, every WABA status read fails with this HTTP status and code. */
  wabaStatusUnavailable: { httpStatus: number; code: number } | null;
  seed?: number;
}

export const NO_FAULTS: FaultConfig = { rules: [], sendLatencyMs: 0, wabaStatusUnavailable: null };

export interface FaultTarget {
  endpoint: FaultEndpoint;
  phoneNumberId?: string;
  wabaId?: string;
}

export type FaultHit =
  | { kind: "error"; ruleId: string; code: number; httpStatus?: number; message?: string; details?: string }
  | { kind: "timeout"; ruleId: string; delayMs: number; drop: boolean; acceptBeforeDrop: boolean };

export function ruleMatches(rule: FaultRule, t: FaultTarget): boolean {
  if (rule.remaining === 0) return false;
  if (rule.endpoints && !rule.endpoints.includes(t.endpoint)) return false;
  if (rule.phoneNumberId !== undefined && rule.phoneNumberId !== t.phoneNumberId) return false;
  if (rule.wabaId !== undefined && rule.wabaId !== t.wabaId) return false;
  return true;
}

/** Fires the first matching rule whose dice roll passes; mutates its counters. */
export function pickFault(rules: FaultRule[], t: FaultTarget, rng: () => number): FaultHit | null {
  for (const rule of rules) {
    if (!ruleMatches(rule, t)) continue;
    if (rule.probability < 1 && rng() >= rule.probability) continue;
    rule.fired++;
    if (rule.remaining !== null) rule.remaining--;
    if (rule.timeoutMs !== undefined)
      return {
        kind: "timeout",
        ruleId: rule.id,
        delayMs: rule.timeoutMs,
        drop: rule.drop ?? false,
        acceptBeforeDrop: rule.acceptBeforeDrop ?? false,
      };
    return {
      kind: "error",
      ruleId: rule.id,
      code: rule.code ?? 131000,
      httpStatus: rule.httpStatus,
      message: rule.message,
      details: rule.details,
    };
  }
  return null;
}

/** Whether any live rule could hit sends on this number (decides if a send asks the registry). */
export function sendFaultsPossible(rules: FaultRule[], phoneNumberId: string, wabaId: string): boolean {
  return rules.some(
    (r) =>
      (ruleMatches(r, { endpoint: "send_cloud", phoneNumberId, wabaId }) ||
        ruleMatches(r, { endpoint: "send_mm_lite", phoneNumberId, wabaId })) &&
      r.probability > 0,
  );
}
