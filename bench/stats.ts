/** Pure figures over send timestamps (epoch ms, as the simulator recorded them). */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))));
  return sorted[idx] as number;
}

/**
 * The most arrivals in any sliding window of `windowMs`, counted as the simulator counts them: an
 * arrival at t sees the arrivals in (t − windowMs, t].
 */
export function maxInWindow(sorted: number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[lo] as number) <= (sorted[hi] as number) - windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export interface RateFigures {
  count: number;
  first: number;
  last: number;
  /** count / (last − first), per second. */
  overallRate: number;
  /** Sends between the 5th and 95th percentile send times / that span, per second. */
  steadyRate: number;
  p5: number;
  p95: number;
}

export function rateFigures(sorted: number[]): RateFigures {
  const count = sorted.length;
  const first = sorted[0] ?? Number.NaN;
  const last = sorted[count - 1] ?? Number.NaN;
  const p5 = percentile(sorted, 5);
  const p95 = percentile(sorted, 95);
  const i5 = Math.round(0.05 * (count - 1));
  const i95 = Math.round(0.95 * (count - 1));
  return {
    count,
    first,
    last,
    overallRate: count > 1 ? ((count - 1) * 1000) / (last - first) : Number.NaN,
    steadyRate: i95 > i5 && p95 > p5 ? ((i95 - i5) * 1000) / (p95 - p5) : Number.NaN,
    p5,
    p95,
  };
}

export interface GapFigures {
  /** The pacing interval the gaps are compared with, ms. */
  intervalMs: number;
  /** Gaps longer than `threshold` between consecutive sends. */
  stalls: number;
  thresholdMs: number;
  /** Σ (gap − interval) over those stalls: time the number was idle when it could have sent, ms. */
  lostMs: number;
  /** Median gap, ms. */
  medianGapMs: number;
  /** The longest gaps: [offset from the first send (ms), gap (ms)]. */
  longest: [number, number][];
  /** Median spacing of the stalls' starts, ms (a regular period points at batch boundaries). */
  stallPeriodMs: number;
}

export function gapFigures(sorted: number[], intervalMs: number): GapFigures {
  const gaps: number[] = [];
  const thresholdMs = Math.max(50, 5 * intervalMs);
  const stallsAt: number[] = [];
  const all: [number, number][] = [];
  let lostMs = 0;
  for (let i = 1; i < sorted.length; i++) {
    const gap = (sorted[i] as number) - (sorted[i - 1] as number);
    gaps.push(gap);
    if (gap > thresholdMs) {
      lostMs += gap - intervalMs;
      stallsAt.push((sorted[i - 1] as number) - (sorted[0] as number));
      all.push([(sorted[i - 1] as number) - (sorted[0] as number), gap]);
    }
  }
  all.sort((a, b) => b[1] - a[1]);
  const periods: number[] = [];
  for (let i = 1; i < stallsAt.length; i++)
    periods.push((stallsAt[i] as number) - (stallsAt[i - 1] as number));
  periods.sort((a, b) => a - b);
  gaps.sort((a, b) => a - b);
  return {
    intervalMs,
    stalls: stallsAt.length,
    thresholdMs,
    lostMs,
    medianGapMs: percentile(gaps, 50),
    longest: all.slice(0, 5),
    stallPeriodMs: percentile(periods, 50),
  };
}

/** Sends per wall-clock second from the first send: min / median / max over the full seconds. */
export function perSecond(sorted: number[]): { min: number; median: number; max: number; seconds: number } {
  if (sorted.length === 0) return { min: 0, median: 0, max: 0, seconds: 0 };
  const first = sorted[0] as number;
  const buckets = new Map<number, number>();
  for (const t of sorted) {
    const b = Math.floor((t - first) / 1000);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const lastFull = Math.floor(((sorted[sorted.length - 1] as number) - first) / 1000) - 1;
  const counts: number[] = [];
  for (let b = 0; b <= lastFull; b++) counts.push(buckets.get(b) ?? 0);
  counts.sort((a, b) => a - b);
  return {
    min: counts[0] ?? 0,
    median: percentile(counts, 50),
    max: counts[counts.length - 1] ?? 0,
    seconds: counts.length,
  };
}

/** The densest window of `windowMs` (as the simulator counts: (t − windowMs, t]): its end and count. */
export function densestWindow(
  sorted: number[],
  windowMs: number,
): { from: number; to: number; count: number } {
  let best = { from: Number.NaN, to: Number.NaN, count: 0 };
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[lo] as number) <= (sorted[hi] as number) - windowMs) lo++;
    if (hi - lo + 1 > best.count)
      best = { from: sorted[lo] as number, to: sorted[hi] as number, count: hi - lo + 1 };
  }
  return best;
}

/**
 * Which recipients (audience indexes) arrived in [from, to]: runs of consecutive indexes, so one
 * paced stream shows as one run and two senders interleaving show as two or more.
 */
export function seqRuns(records: { t: number; seq: number }[], from: number, to: number, gap = 3): string[] {
  const seqs = records.filter((r) => r.t >= from && r.t <= to).map((r) => r.seq);
  seqs.sort((a, b) => a - b);
  const runs: [number, number, number][] = [];
  for (const s of seqs) {
    const last = runs[runs.length - 1];
    if (last && s - last[1] <= gap) {
      last[1] = s;
      last[2]++;
    } else runs.push([s, s, 1]);
  }
  return runs.map(([a, b, n]) => `${a}–${b} (${n})`);
}
