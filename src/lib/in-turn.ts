/**
 * Runs async steps one after another, in the order they were asked for, although their callers run
 * concurrently. A step that fails fails only its own caller; the next step still runs.
 */
export class InTurn {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(step);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
