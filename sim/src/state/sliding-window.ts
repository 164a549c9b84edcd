// Arrivals admitted in the last `windowMs`, kept as a queue of timestamps. Admission and eviction are
// amortised O(1), so a number can take ~1,000 sends/s without the check costing anything noticeable.

export class SlidingWindow {
  private ts: number[] = [];
  private head = 0;

  constructor(private readonly windowMs: number) {}

  /**
   * Admits an arrival at `now` unless `cap` arrivals were already admitted in the window ending at
   * `now`. Returns the window's count including this arrival, or -1 when refused (refused arrivals are
   * not recorded, so a throttled burst does not push later sends out).
   */
  tryAdmit(now: number, cap: number): number {
    const cutoff = now - this.windowMs;
    while (this.head < this.ts.length && (this.ts[this.head] as number) <= cutoff) this.head++;
    // Compact now and then so the array does not grow forever.
    if (this.head > 4096 && this.head * 2 > this.ts.length) {
      this.ts = this.ts.slice(this.head);
      this.head = 0;
    }
    const inWindow = this.ts.length - this.head;
    if (inWindow >= cap) return -1;
    // Arrivals are stamped before the hop to this object, so they can reach it slightly out of
    // order: keep the queue sorted (the right place is almost always at the end).
    let at = this.ts.length;
    while (at > this.head && (this.ts[at - 1] as number) > now) at--;
    this.ts.splice(at, 0, now);
    return inWindow + 1;
  }

  clear(): void {
    this.ts = [];
    this.head = 0;
  }
}
