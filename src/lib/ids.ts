/**
 * Identifiers that sort by creation time (newest-first paging is a plain ORDER BY id DESC):
 * 9 base-36 chars of milliseconds, then 16 random base-36 chars from the CSPRNG.
 */
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newId(prefix: string, now = Date.now()): string {
  const time = now.toString(36).padStart(9, "0");
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${prefix}_${time}${rand}`;
}
