/**
 * A bound on Meta sends in flight in one invocation of the send consumer.
 *
 * Cloudflare lets one invocation have six connections waiting for response headers; further
 * fetches wait inside the runtime while their timeout already runs. A send that waited there would
 * leave long after its slot (a burst at Meta once the connections free up) and could time out
 * without ever having left (recorded "outcome unknown" although Meta never saw it). So a send
 * starts only when it holds a permit, and a send that cannot get one before its slot has passed is
 * not started at all: its message takes a later slot instead. The timeout therefore starts when the
 * request really starts.
 */
export class InFlight {
  private active = 0;
  private readonly waiters: { resolve: (ok: boolean) => void; timer: ReturnType<typeof setTimeout> }[] = [];

  constructor(readonly max: number) {}

  get inFlight(): number {
    return this.active;
  }

  /**
   * Takes a permit, waiting at most until `deadline` (epoch ms). Resolves false when the deadline
   * passed first, even with a permit free: the caller's slot is over (a timer that fired late on a
   * busy isolate must not send late), and it must not send.
   */
  take(deadline: number): Promise<boolean> {
    const wait = deadline - Date.now();
    if (wait < 0) return Promise.resolve(false);
    if (this.active < this.max && this.waiters.length === 0) {
      this.active += 1;
      return Promise.resolve(true);
    }
    if (wait === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter = {
        resolve,
        timer: setTimeout(() => {
          const k = this.waiters.indexOf(waiter);
          if (k >= 0) this.waiters.splice(k, 1);
          resolve(false);
        }, wait),
      };
      this.waiters.push(waiter);
    });
  }

  /** Gives a permit back; the oldest waiter (if any) gets it at once. */
  release(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(true); // The permit passes on: `active` is unchanged.
      return;
    }
    this.active = Math.max(0, this.active - 1);
  }
}
