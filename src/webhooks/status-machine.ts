/**
 * The message status state machine for Meta's status webhooks (api.md "Messages"), pure.
 *
 * Meta posts `sent`, `delivered`, `read` and `failed` (and `played`, ignored) in any order, more than
 * once, and may skip `delivered`. The state a message ends in must depend only on *which* statuses
 * arrived, never on their order, so the machine is a join: every status is folded into a summary
 * (`StatusDelta`) and a summary is merged into the stored state. The consumer summarises a whole
 * queue batch per message in JS and D1 merges the summary into the row in one statement
 * (./apply.ts mirrors `mergeDelta` in SQL, so concurrent batches cannot lose each other's updates).
 *
 * Rules:
 * - Ladder `queued → accepted → sent → delivered → read`: the status only moves up.
 * - A stage's time is the earliest time the message is known to have reached it: reaching a stage
 *   fills every earlier stage's empty time with the same time (a `read` without `delivered` sets
 *   `deliveredAt` and `sentAt`), and a real status with an earlier time moves a filled time back.
 *   So `sentAt ≤ deliveredAt ≤ readAt` always, whatever the arrival order.
 * - `failed` is terminal. Meta sends it when it gave up on the message (131049, 131026, …); nothing
 *   that arrives before or after it changes the status back. Meta does not send `failed` after
 *   `delivered`/`read` in practice; if it ever does, the failure (with its code) is what the
 *   operator must see, so it wins too. Times of `sent`/`delivered`/`read` are still recorded (the
 *   funnel says what Meta reported), only the status stays `failed`. The first failure recorded
 *   keeps its `failedAt` and error: the campaign's error counts are taken when it fails.
 * - `confirmedRoute` comes from `pricing.category` (`marketing_lite` → `mm_lite`, anything else →
 *   `cloud_api`); the latest status carrying pricing wins (by its timestamp; a tie goes to the one
 *   that arrived later).
 * - Only rows that Meta accepted are tracked: `queued`, `cancelled` and `invalid` rows never change.
 */
import type { Route } from "../routing/types";

export type MessageStatus =
  | "queued"
  | "accepted"
  | "sent"
  | "delivered"
  | "read"
  | "failed"
  | "cancelled"
  | "invalid";

export type WebhookStatus = "sent" | "delivered" | "read" | "failed";

export interface StatusError {
  code: number | null;
  title: string | null;
}

/** One status of one message, normalised from the webhook (./notification.ts). */
export interface StatusEvent {
  wamid: string;
  status: WebhookStatus;
  /** The webhook's `timestamp` as ISO-8601 (second precision). */
  at: string;
  /** Only on `failed`. */
  error: StatusError | null;
  /** From `pricing.category`, when the status carries pricing. */
  route: Route | null;
}

/** The columns of a message the machine owns (plus the time of the pricing behind the route). */
export interface TrackedState {
  status: MessageStatus;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  confirmedRoute: Route | null;
  /** Time of the status whose pricing set `confirmedRoute`. */
  routeAt: string | null;
}

/** What a set of statuses of one message says, order forgotten (except for tie-breaks). */
export interface StatusDelta {
  /** Highest ladder stage reported: 0 none, 2 sent, 3 delivered, 4 read. */
  reached: 0 | 2 | 3 | 4;
  /** Earliest time of a status at or above each stage. */
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  /** The first failure in arrival order. */
  failure: { at: string; code: number | null; title: string | null } | null;
  route: Route | null;
  routeAt: string | null;
}

export const EMPTY_DELTA: StatusDelta = {
  reached: 0,
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  failure: null,
  route: null,
  routeAt: null,
};

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  accepted: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  failed: -1,
  cancelled: -1,
  invalid: -1,
};
const LADDER = ["queued", "accepted", "sent", "delivered", "read"] as const;
const STAGE_RANK = { sent: 2, delivered: 3, read: 4 } as const;

/** Rows the webhooks may change: Meta has the message (a wamid was recorded). */
export function isTracked(status: MessageStatus): boolean {
  return (
    status === "accepted" ||
    status === "sent" ||
    status === "delivered" ||
    status === "read" ||
    status === "failed"
  );
}

/** `marketing_lite` → `mm_lite`; any other category → `cloud_api`. */
export function routeFromPricingCategory(category: string): Route {
  return category === "marketing_lite" ? "mm_lite" : "cloud_api";
}

/** The earlier of two ISO times (null = unknown). ISO-8601 UTC strings of one format sort as text. */
export function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}

/** Adds one status (the latest arrival) to a summary. */
export function addStatus(delta: StatusDelta, event: StatusEvent): StatusDelta {
  return joinDeltas(delta, summarize([event]));
}

/** The summary of statuses in arrival order. */
export function summarize(events: readonly StatusEvent[]): StatusDelta {
  let d: StatusDelta = EMPTY_DELTA;
  for (const e of events) d = joinDeltas(d, single(e));
  return d;
}

function single(e: StatusEvent): StatusDelta {
  const route = e.route !== null ? { route: e.route, routeAt: e.at } : { route: null, routeAt: null };
  if (e.status === "failed") {
    return {
      ...EMPTY_DELTA,
      ...route,
      failure: { at: e.at, code: e.error?.code ?? null, title: e.error?.title ?? null },
    };
  }
  const rank = STAGE_RANK[e.status];
  return {
    reached: rank,
    sentAt: e.at,
    deliveredAt: rank >= 3 ? e.at : null,
    readAt: rank >= 4 ? e.at : null,
    failure: null,
    ...route,
  };
}

/** `a` then `b` (b arrived later): associative; commutative except for the documented tie-breaks. */
export function joinDeltas(a: StatusDelta, b: StatusDelta): StatusDelta {
  const takeRoute = b.route !== null && (a.routeAt === null || (b.routeAt ?? "") >= a.routeAt);
  return {
    reached: Math.max(a.reached, b.reached) as StatusDelta["reached"],
    sentAt: earliest(a.sentAt, b.sentAt),
    deliveredAt: earliest(a.deliveredAt, b.deliveredAt),
    readAt: earliest(a.readAt, b.readAt),
    failure: a.failure ?? b.failure,
    route: takeRoute ? b.route : a.route,
    routeAt: takeRoute ? b.routeAt : a.routeAt,
  };
}

/** The stored state after the statuses summarised in `delta` (mirrored in SQL by ./apply.ts). */
export function mergeDelta(state: TrackedState, delta: StatusDelta): TrackedState {
  if (!isTracked(state.status)) return state;
  const failsNow = state.status !== "failed" && delta.failure !== null;
  let status = state.status;
  if (failsNow) status = "failed";
  else if (status !== "failed" && delta.reached > RANK[status])
    status = LADDER[delta.reached] as MessageStatus;
  const takeRoute =
    delta.route !== null && (state.routeAt === null || (delta.routeAt ?? "") >= state.routeAt);
  return {
    status,
    sentAt: earliest(state.sentAt, delta.sentAt),
    deliveredAt: earliest(state.deliveredAt, delta.deliveredAt),
    readAt: earliest(state.readAt, delta.readAt),
    failedAt: failsNow ? (delta.failure?.at ?? null) : state.failedAt,
    errorCode: failsNow ? (delta.failure?.code ?? null) : state.errorCode,
    errorTitle: failsNow ? (delta.failure?.title ?? null) : state.errorTitle,
    confirmedRoute: takeRoute ? delta.route : state.confirmedRoute,
    routeAt: takeRoute ? delta.routeAt : state.routeAt,
  };
}

/** Applies statuses one by one, in arrival order. */
export function applyStatuses(state: TrackedState, events: readonly StatusEvent[]): TrackedState {
  let s = state;
  for (const e of events) s = mergeDelta(s, single(e));
  return s;
}
