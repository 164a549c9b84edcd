/** Chart maths (pure numbers): shares, axis tops and ticks, the timeline's buckets. */

export interface FunnelNumbers {
  accepted: number;
  sent: number;
  delivered: number;
  read: number;
}

export interface StatusCounts {
  queued: number;
  accepted: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  cancelled: number;
  invalid: number;
}

export interface TimelinePoint {
  at: string;
  accepted: number;
  sent?: number;
  delivered: number;
  read: number;
  failed: number;
}

export interface ErrorCount {
  code: number | null;
  title: string | null;
  count: number;
}

/** n / d, 0 when d is 0 (never NaN). */
export function share(n: number, d: number): number {
  return d > 0 ? n / d : 0;
}

/** The smallest 1, 2 or 5 × 10^k that is ≥ n (1 for n ≤ 1): a round top for an axis. */
export function niceMax(n: number): number {
  if (!(n > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

/** Rounds for SVG attributes (keeps the markup short and stable). */
export function r(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface Bucket {
  /** Start of the bucket, ms since the epoch. */
  start: number;
  accepted: number;
  delivered: number;
  read: number;
  failed: number;
}

/**
 * The API's per-minute buckets as a continuous series: minutes without events become zeros, and a
 * long campaign is merged into wider buckets so at most `maxPoints` remain. Answers the buckets and
 * their width in minutes.
 */
export function fillTimeline(
  points: TimelinePoint[],
  maxPoints = 120,
): { buckets: Bucket[]; minutes: number } {
  const parsed = points
    .map((p) => ({ ...p, t: Date.parse(p.at) }))
    .filter((p) => Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t);
  const first = parsed[0];
  const last = parsed[parsed.length - 1];
  if (!first || !last) return { buckets: [], minutes: 1 };
  const startMinute = Math.floor(first.t / 60_000);
  const span = Math.floor(last.t / 60_000) - startMinute + 1;
  const minutes = Math.max(1, Math.ceil(span / Math.max(1, maxPoints)));
  const count = Math.ceil(span / minutes);
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({
    start: (startMinute + i * minutes) * 60_000,
    accepted: 0,
    delivered: 0,
    read: 0,
    failed: 0,
  }));
  for (const p of parsed) {
    const b = buckets[Math.floor((Math.floor(p.t / 60_000) - startMinute) / minutes)];
    if (!b) continue;
    b.accepted += p.accepted;
    b.delivered += p.delivered;
    b.read += p.read;
    b.failed += p.failed;
  }
  return { buckets, minutes };
}

/** Whole-number gridlines for an axis whose top is `niceMax(…)`: 0, the middle, the top (1 → 0, 1; 5 → 0…5). */
export function axisTicks(max: number): number[] {
  if (max <= 1) return [0, 1];
  if (Number.isInteger(max / 2)) return [0, max / 2, max];
  const step = max / 5;
  return Array.from({ length: 6 }, (_, i) => i * step);
}

export function hhmm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
