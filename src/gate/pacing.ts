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
 * The number is booked further ahead than a consumer should wait: the job is parked in the Durable
 * Object instead of holding a consumer (and its slots) for that long; an alarm puts it back on the
 * queue when the number has room for it (see `releasePlan`).
 */
export interface Deferral {
  deferred: true;
}

/** How far ahead a job may be booked; beyond it the job is parked rather than held by a consumer. */
export const MAX_SLOT_WAIT_MS = 15_000;

/** An alarm never looks again sooner than this: the queue round trip is not free. */
export const MIN_RECHECK_MS = 250;

export function grantOrDefer(
  state: PacingState,
  now: number,
  mps: number,
  count: number,
  maxWaitMs = MAX_SLOT_WAIT_MS,
  jitterMs = JITTER_ALLOWANCE_MS,
): [PacingState, Grant | Deferral] {
  if (state.nextSlotAt - now > maxWaitMs) return [state, { deferred: true }];
  return grant(state, now, mps, count, jitterMs);
}

/** A job waiting in the Durable Object: how many sends it carries, at which throughput. */
export interface ParkedJob {
  count: number;
  mps: number;
}

/**
 * Which of a number's parked jobs (oldest first) go back to the queue now, and when to look again.
 * Jobs are released once the booking ahead of the number is down to half of `maxWaitMs`, and only
 * as many as fill it up to `maxWaitMs` again: the number never runs dry between jobs, a released
 * job finds slots within the wait it is allowed, and the rest keep their order. Nothing is reserved
 * for a parked job, so a cancelled campaign's jobs (released, then finding nothing to send) hold
 * up no one.
 */
export function releasePlan(
  state: PacingState,
  now: number,
  parked: ParkedJob[],
  maxWaitMs = MAX_SLOT_WAIT_MS,
  jitterMs = JITTER_ALLOWANCE_MS,
): { release: number; recheckAt: number | null } {
  let end = Math.max(state.nextSlotAt, now);
  let release = 0;
  if (end - now <= maxWaitMs / 2) {
    for (const job of parked) {
      const lasts = job.count * intervalFor(job.mps, now < state.slowUntil, jitterMs);
      if (release > 0 && end + lasts - now > maxWaitMs) break;
      end += lasts;
      release += 1;
    }
  }
  const recheckAt = release < parked.length ? Math.max(now + MIN_RECHECK_MS, end - maxWaitMs / 2) : null;
  return { release, recheckAt };
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
    ...state,
    nextSlotAt: Math.max(state.nextSlotAt, now + pauseMs),
    slowUntil: now + SLOWDOWN_MS,
  };
}

export const INITIAL_PACING: PacingState = { nextSlotAt: 0, slowUntil: 0 };

/** A number whose state says nothing about the future any more can be forgotten. */
export function isIdle(state: PacingState, now: number): boolean {
  return Math.max(state.nextSlotAt, state.slowUntil) < now;
}
