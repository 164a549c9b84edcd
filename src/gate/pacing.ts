/**
 * Even pacing of sends for one phone number (pure; the Durable Object keeps the state).
 *
 * Meta counts arrivals in a sliding one-second window per number, so a bucket that lets a burst of
 * `mps` through at once and then waits would look fine per second but exceed the cap in a window
 * that straddles two bursts. Instead every send gets its own slot, evenly spaced. With spacing I,
 * a window of W ms holds at most ⌊W / I⌋ + 1 slots; Meta's one-second window can see the slots of
 * a (1000 + J) ms window of ours when arrival times jitter by up to J ms. So I = (1000 + J) / mps
 * keeps every Meta window at or under the cap while using 1000 / (1000 + J) of it (97.6 % for
 * J = 25 ms). Slots are granted in blocks so a consumer asks the object once per chunk of
 * messages, not once per message.
 */
export const JITTER_ALLOWANCE_MS = 25;
/** The share of the cap that pacing uses with the default allowance. */
export const PACING_HEADROOM = 1000 / (1000 + JITTER_ALLOWANCE_MS);

export interface PacingState {
  /** Epoch ms of the next free slot. */
  nextSlotAt: number;
  /** Until when the number is slowed down after Meta throttled it (epoch ms). */
  slowUntil: number;
}

export interface Grant {
  /** Epoch ms at which the first granted send may leave. */
  startAt: number;
  /** Spacing between granted sends, ms. */
  intervalMs: number;
  count: number;
}

/** When throttled, the number runs at this share of its cap for `SLOWDOWN_MS`. */
export const THROTTLED_SHARE = 0.5;
export const SLOWDOWN_MS = 10_000;

export function intervalFor(mps: number, throttled: boolean, jitterMs = JITTER_ALLOWANCE_MS): number {
  return (1000 + jitterMs) / (mps * (throttled ? THROTTLED_SHARE : 1));
}

/**
 * The number is booked further ahead than a consumer should wait: the job goes back to the queue
 * with a delay instead of holding a consumer (and its slots) for that long.
 */
export interface Deferral {
  deferred: true;
  retryInMs: number;
}

export function grantOrDefer(
  state: PacingState,
  now: number,
  mps: number,
  count: number,
  maxWaitMs: number,
  jitterMs = JITTER_ALLOWANCE_MS,
): [PacingState, Grant | Deferral] {
  const waitMs = state.nextSlotAt - now;
  if (waitMs > maxWaitMs) return [state, { deferred: true, retryInMs: waitMs - maxWaitMs / 2 }];
  return grant(state, now, mps, count, jitterMs);
}

export function grant(
  state: PacingState,
  now: number,
  mps: number,
  count: number,
  jitterMs = JITTER_ALLOWANCE_MS,
): [PacingState, Grant] {
  const intervalMs = intervalFor(mps, now < state.slowUntil, jitterMs);
  const startAt = Math.max(now, state.nextSlotAt);
  return [
    { ...state, nextSlotAt: startAt + count * intervalMs },
    { startAt, intervalMs, count },
  ];
}

/** Meta answered a throttling code: pause the number briefly and run slower for a while. */
export function throttled(state: PacingState, now: number, pauseMs: number): PacingState {
  return {
    nextSlotAt: Math.max(state.nextSlotAt, now + pauseMs),
    slowUntil: now + SLOWDOWN_MS,
  };
}

export const INITIAL_PACING: PacingState = { nextSlotAt: 0, slowUntil: 0 };
