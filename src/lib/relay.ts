/**
 * Hands a turn from one caller to the next, per key, at a time the holder names. The send consumer
 * uses it so that the jobs of one number in a batch start (read their messages, book their slots)
 * one by one, each shortly before the previous job's slots run out, instead of all fifteen at the
 * batch start, where their reads crowded the first job's first sends off their slots.
 */
export class Relay {
  private readonly last = new Map<string, Promise<void>>();

  /**
   * Waits until the previous holder of `key` passes the turn on, and returns `pass`: `pass(at)`
   * lets the next caller of `key` go at `at` (epoch ms), `pass()` at once. Only the first call of
   * `pass` counts, so a holder can pass early and still call `pass()` when it ends.
   */
  async turn(key: string): Promise<(at?: number) => void> {
    const previous = this.last.get(key) ?? Promise.resolve();
    let pass: (at?: number) => void = () => {};
    const mine = new Promise<void>((resolve) => {
      let passed = false;
      pass = (at) => {
        if (passed) return;
        passed = true;
        const wait = (at ?? 0) - Date.now();
        if (wait > 0) setTimeout(resolve, wait);
        else resolve();
      };
    });
    this.last.set(key, mine);
    await previous;
    return pass;
  }
}
