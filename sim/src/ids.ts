// Identifiers that look like Meta's, plus a seedable random source so fault and webhook tests can be
// deterministic when they need to be.

const HEX = "0123456789ABCDEF";

export function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const b of buf) out += HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Meta's wamids are base64 of a small protobuf-like record holding the recipient's digits and a hex
 * message id ("wamid.HBgM..."). We mimic that layout so gateways that log or length-check wamids see
 * realistic values; 80 random bits make collisions practically impossible.
 */
export function newWamid(to: string): string {
  const enc = new TextEncoder();
  const digits = enc.encode(to.slice(0, 32));
  const id = enc.encode(randomHex(10));
  const bytes = new Uint8Array(3 + digits.length + 6 + id.length + 1);
  let i = 0;
  bytes.set([0x1c, 0x18, digits.length], i);
  i += 3;
  bytes.set(digits, i);
  i += digits.length;
  bytes.set([0x15, 0x02, 0x00, 0x11, 0x18, id.length], i);
  i += 6;
  bytes.set(id, i);
  return `wamid.${toBase64(bytes)}`;
}

/** fbtrace_id is an opaque 11-character token in Meta's error bodies. */
export function fbtraceId(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(9)))
    .replace(/[+/=]/g, "A")
    .slice(0, 11);
}

/** Graph object ids are 15-digit decimal strings (and still exact as JSON numbers in webhooks). */
export function numericId(): string {
  const buf = crypto.getRandomValues(new Uint32Array(2));
  const n = (BigInt(buf[0] ?? 0) << 21n) ^ BigInt(buf[1] ?? 0);
  return (100_000_000_000_000n + (n % 899_999_999_999_999n)).toString();
}

/** Math.random unless a seed is given, then mulberry32 so a test can replay the same choices. */
export function makeRng(seed?: number): () => number {
  if (seed === undefined) return Math.random;
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(items: T[], rng: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
