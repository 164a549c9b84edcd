/**
 * What happened to one send attempt, and what the message becomes (pure; the consumer applies it).
 * Exactly-once rests on one rule: a message whose request may have reached Meta is never sent
 * again. Only an answer in which Meta *refused* the message makes a retry safe.
 */
import type { Route, RouteReason } from "../routing/types";

export const MAX_SEND_ATTEMPTS = 6;

export type SendOutcome =
  | { kind: "accepted"; wamid: string; route: Route; reason: RouteReason | null; acceptedAt: string }
  | { kind: "failed"; code: number | null; title: string }
  | { kind: "retry"; code: number | null; title: string; delayMs: number; throttled: boolean }
  | { kind: "unknown"; title: string }
  /** Not sent: its slots were skipped (the job fell behind); sent again with fresh slots. */
  | { kind: "rescheduled"; claimed: boolean };

/** The title stored for a send whose outcome is unknown (a timeout after the request left). */
export const OUTCOME_UNKNOWN_TITLE =
  "Send outcome unknown: Meta did not answer; not re-sent so the recipient never gets it twice";

/** A retryable refusal becomes final once the message has used its attempts. */
export function finalize(outcome: SendOutcome, attempts: number): SendOutcome {
  if (outcome.kind === "retry" && attempts >= MAX_SEND_ATTEMPTS) {
    return {
      kind: "failed",
      code: outcome.code,
      title: `${outcome.title} (gave up after ${attempts} attempts)`,
    };
  }
  return outcome;
}

/** Exponential backoff with full jitter, for Meta answers that carry no better hint. */
export function backoffWithJitter(attempt: number, baseMs = 1000, capMs = 5 * 60_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
