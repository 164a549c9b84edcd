/** Times are stored as ISO-8601 UTC strings: they sort lexically and read well in D1 and in reports. */
export function isoNow(now = Date.now()): string {
  return new Date(now).toISOString();
}
