/**
 * Meta's webhook authentication: `X-Hub-Signature-256: sha256=<hex>` is HMAC-SHA256 of the raw body
 * keyed with the app secret, checked on the bytes before anything parses them; the handshake's
 * verify token. Both comparisons run in constant time.
 */
const encoder = new TextEncoder();
let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;

function hmacKey(secret: string): Promise<CryptoKey> {
  if (cachedKey?.secret !== secret) {
    const key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    cachedKey = { secret, key };
  }
  return cachedKey.key;
}

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** True when `header` is `sha256=<hex>` of `body` under `secret` (crypto.subtle.verify: constant time). */
export async function verifySignature(
  secret: string,
  body: Uint8Array,
  header: string | null | undefined,
): Promise<boolean> {
  const match = SIGNATURE.exec(header?.trim() ?? "");
  if (!match?.[1]) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), hexBytes(match[1]), body);
}

/** The signature Meta would send for `body` (tests, tooling). */
export async function signBody(secret: string, body: Uint8Array | string): Promise<string> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), bytes));
  return `sha256=${[...mac].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Constant-time equality of two strings: their SHA-256 digests are compared with timingSafeEqual. */
export async function tokensEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
