/**
 * Portal sessions and CSRF tokens (pure crypto; no Hono, no bindings).
 *
 * - The session is a cookie `v1.<payload>.<mac>`: base64url JSON and its HMAC-SHA256. The HMAC key
 *   is derived (HKDF-SHA256) from a server secret, so the secret itself never signs anything and a
 *   second key, for CSRF tokens, comes from the same secret under another label.
 * - A session names its bot (`bot`, null before sign-in), a fingerprint of the bot's key hash (`kh`:
 *   a rotated key ends its sessions), a random id (`sid`) and an absolute expiry (`exp`, seconds).
 * - The CSRF token is a synchronizer token bound to the session: HMAC(csrfKey, "csrf:" + sid). It
 *   changes with every session (a new sid at sign-in), is never stored, and is compared in constant
 *   time.
 */

export interface Session {
  v: 1;
  /** Random session id (base64url, 128 bits). */
  sid: string;
  /** The signed-in bot, or null for the anonymous session of the sign-in form. */
  bot: string | null;
  /** First 16 hex characters of the bot's key hash (null when anonymous). */
  kh: string | null;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface PortalKeys {
  session: CryptoKey;
  csrf: CryptoKey;
}

const encoder = new TextEncoder();
const SALT = "mmlite-gateway portal v1";

const keyCache = new Map<string, Promise<PortalKeys>>();

/** The two HMAC keys derived from `secret` (cached per isolate). */
export function portalKeys(secret: string): Promise<PortalKeys> {
  let keys = keyCache.get(secret);
  if (!keys) {
    keys = deriveKeys(secret);
    keyCache.set(secret, keys);
    keys.catch(() => keyCache.delete(secret));
  }
  return keys;
}

async function deriveKeys(secret: string): Promise<PortalKeys> {
  if (secret.length === 0) throw new Error("portal secret is empty");
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  const derive = (info: string) =>
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: encoder.encode(SALT), info: encoder.encode(info) },
      ikm,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    );
  const [session, csrf] = await Promise.all([derive("session-cookie"), derive("csrf-token")]);
  return { session, csrf };
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

export function randomId(bytes = 16): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A fresh session: a new random sid every time (sign-in never keeps the anonymous one). */
export function newSession(
  bot: { id: string; keyHash: string } | null,
  ttlSeconds: number,
  now = Date.now(),
): Session {
  return {
    v: 1,
    sid: randomId(),
    bot: bot?.id ?? null,
    kh: bot ? keyFingerprint(bot.keyHash) : null,
    exp: Math.floor(now / 1000) + ttlSeconds,
  };
}

export function keyFingerprint(keyHash: string): string {
  return keyHash.slice(0, 16);
}

export async function signSession(keys: PortalKeys, session: Session): Promise<string> {
  const payload = base64url(encoder.encode(JSON.stringify(session)));
  const mac = await crypto.subtle.sign("HMAC", keys.session, encoder.encode(`v1.${payload}`));
  return `v1.${payload}.${base64url(new Uint8Array(mac))}`;
}

/** The session in a cookie value, or null when it is malformed, forged, tampered with or expired. */
export async function verifySession(
  keys: PortalKeys,
  value: string | undefined,
  now = Date.now(),
): Promise<Session | null> {
  if (!value || value.length > 1024) return null;
  const parts = value.split(".");
  if (parts.length !== 3 || parts[0] !== "v1") return null;
  const [, payload, macText] = parts as [string, string, string];
  const mac = fromBase64url(macText);
  if (mac?.length !== 32) return null;
  // crypto.subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", keys.session, mac, encoder.encode(`v1.${payload}`));
  if (!ok) return null;
  const bytes = fromBase64url(payload);
  if (!bytes) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  if (!isSession(parsed)) return null;
  if (parsed.exp * 1000 <= now) return null;
  return parsed;
}

function isSession(v: unknown): v is Session {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  return (
    s.v === 1 &&
    typeof s.sid === "string" &&
    s.sid.length >= 16 &&
    (s.bot === null || typeof s.bot === "string") &&
    (s.kh === null || typeof s.kh === "string") &&
    (s.bot === null) === (s.kh === null) &&
    typeof s.exp === "number" &&
    Number.isFinite(s.exp)
  );
}

/** The session's synchronizer token. */
export async function csrfToken(keys: PortalKeys, sid: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", keys.csrf, encoder.encode(`csrf:${sid}`));
  return base64url(new Uint8Array(mac));
}

/** True when `token` is this session's CSRF token (constant-time, via HMAC verify). */
export async function checkCsrfToken(keys: PortalKeys, sid: string, token: unknown): Promise<boolean> {
  if (typeof token !== "string" || token.length === 0 || token.length > 100) return false;
  const mac = fromBase64url(token);
  if (mac?.length !== 32) return false;
  return crypto.subtle.verify("HMAC", keys.csrf, mac, encoder.encode(`csrf:${sid}`));
}

// ------------------------------------------------------------------------------- the cookie

/**
 * `__Host-` prefix: the browser accepts the cookie only with `Secure`, `Path=/` and no `Domain`,
 * so no other host (or a sibling subdomain) can plant or shadow it.
 */
export const SESSION_COOKIE = "__Host-mmlite_portal";

export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

/** The value of one cookie in a `Cookie` header (first occurrence). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
