/** Times are stored as ISO-8601 UTC strings: they sort lexically and read well in D1 and in reports. */
export function isoNow(now = Date.now()): string {
  return new Date(now).toISOString();
}

/** Resolves after `ms` (at once when `ms` is not positive). */
export const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve();
