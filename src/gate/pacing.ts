/**
 * Even pacing of sends for one phone number (pure; the Durable Object keeps the state).
 *
 * Meta counts arrivals in a sliding one-second window per number, so a bucket that lets a burst of
 * `mps` through at once and then waits would look fine per second but exceed the cap in a window
 * that straddles two bursts. Instead every send gets its own slot, spaced `1000 / (mps × headroom)`
 * ms apart: then no one-second window can ever hold more than the cap, and the small headroom
 * absorbs network jitter between the gateway and Meta. Slots are granted in blocks so a consumer
 * asks the object once per chunk of messages, not once per message.
 */
export const PACING_HEADROOM = 0.98;

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

export function intervalFor(mps: number, throttled: boolean): number {
  const rate = mps * PACING_HEADROOM * (throttled ? THROTTLED_SHARE : 1);
  return 1000 / rate;
}

export function grant(state: PacingState, now: number, mps: number, count: number): [PacingState, Grant] {
  const intervalMs = intervalFor(mps, now < state.slowUntil);
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
