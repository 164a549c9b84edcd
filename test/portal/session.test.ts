import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { safeNext } from "../../src/portal/guard";
import {
  base64url,
  checkCsrfToken,
  clearedSessionCookie,
  csrfToken,
  fromBase64url,
  newSession,
  portalKeys,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
  signSession,
  verifySession,
} from "../../src/portal/session";

const bot = { id: "bot_1", keyHash: "a".repeat(64) };

describe("portal session cookie", () => {
  it("signs and verifies a session", async () => {
    const keys = await portalKeys("secret-one-0123456789");
    const s = newSession(bot, 3600, Date.UTC(2026, 0, 1));
    const value = await signSession(keys, s);
    expect(value).toMatch(/^v1\.[\w-]+\.[\w-]{43}$/);
    expect(await verifySession(keys, value, Date.UTC(2026, 0, 1))).toEqual(s);
    expect(s.bot).toBe("bot_1");
    expect(s.kh).toBe("a".repeat(16));
    expect(s.sid.length).toBeGreaterThanOrEqual(22);
  });

  it("refuses an expired, tampered or foreign-key session", async () => {
    const keys = await portalKeys("secret-one-0123456789");
    const other = await portalKeys("secret-two-0123456789");
    const t0 = Date.UTC(2026, 0, 1);
    const s = newSession(bot, 60, t0);
    const value = await signSession(keys, s);
    expect(await verifySession(keys, value, t0 + 59_000)).not.toBeNull();
    expect(await verifySession(keys, value, t0 + 60_000)).toBeNull();
    expect(await verifySession(other, value, t0)).toBeNull();

    const [v, payload, mac] = value.split(".") as [string, string, string];
    const changed = base64url(
      new TextEncoder().encode(JSON.stringify({ ...s, bot: "bot_2", exp: s.exp + 1_000_000 })),
    );
    expect(await verifySession(keys, `${v}.${changed}.${mac}`, t0)).toBeNull();
    expect(await verifySession(keys, `v2.${payload}.${mac}`, t0)).toBeNull();
    expect(await verifySession(keys, `${v}.${payload}`, t0)).toBeNull();
    expect(await verifySession(keys, `${v}.${payload}.${mac}x`, t0)).toBeNull();
    expect(await verifySession(keys, undefined, t0)).toBeNull();
    expect(await verifySession(keys, "", t0)).toBeNull();
    expect(await verifySession(keys, "x".repeat(5000), t0)).toBeNull();
  });

  it("refuses a correctly signed payload that is not a session", async () => {
    const keys = await portalKeys("secret-one-0123456789");
    const sign = async (obj: unknown) => {
      const payload = base64url(new TextEncoder().encode(JSON.stringify(obj)));
      const mac = await crypto.subtle.sign("HMAC", keys.session, new TextEncoder().encode(`v1.${payload}`));
      return `v1.${payload}.${base64url(new Uint8Array(mac))}`;
    };
    const exp = Math.floor(Date.now() / 1000) + 60;
    const good = { v: 1, sid: "s".repeat(22), bot: "bot_1", kh: "k", exp };
    expect(await verifySession(keys, await sign(good))).not.toBeNull();
    expect(await verifySession(keys, await sign({ ...good, kh: null }))).toBeNull();
    expect(await verifySession(keys, await sign({ ...good, sid: "short" }))).toBeNull();
    expect(await verifySession(keys, await sign({ ...good, v: 2 }))).toBeNull();
    expect(await verifySession(keys, await sign({ ...good, exp: "later" }))).toBeNull();
    expect(await verifySession(keys, await sign([good]))).toBeNull();
  });

  it("never throws on arbitrary cookie values", async () => {
    const keys = await portalKeys("secret-one-0123456789");
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (value) => {
        expect(await verifySession(keys, value)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it("writes the cookie with every attribute and reads it back", () => {
    expect(sessionCookie("v1.a.b", 28800)).toBe(
      `${SESSION_COOKIE}=v1.a.b; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict`,
    );
    expect(clearedSessionCookie()).toBe(
      `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`,
    );
    expect(SESSION_COOKIE.startsWith("__Host-")).toBe(true);
    expect(readCookie(`a=1; ${SESSION_COOKIE}=v1.x.y; b=2`, SESSION_COOKIE)).toBe("v1.x.y");
    expect(readCookie("a=1", SESSION_COOKIE)).toBeUndefined();
    expect(readCookie(undefined, SESSION_COOKIE)).toBeUndefined();
  });

  it("round-trips base64url", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(fromBase64url(base64url(bytes))).toEqual(bytes);
      }),
    );
    expect(fromBase64url("a+b/")).toBeNull();
  });
});

describe("portal CSRF token", () => {
  it("is bound to the session id and to the server secret", async () => {
    const keys = await portalKeys("secret-one-0123456789");
    const other = await portalKeys("secret-two-0123456789");
    const a = newSession(null, 60);
    const b = newSession(null, 60);
    const token = await csrfToken(keys, a.sid);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(await csrfToken(keys, a.sid)).toBe(token);
    expect(await checkCsrfToken(keys, a.sid, token)).toBe(true);
    expect(await checkCsrfToken(keys, b.sid, token)).toBe(false);
    expect(await checkCsrfToken(other, a.sid, token)).toBe(false);
    // Flip the first character: the last one also carries 2 unused bits, so changing it may not
    // change the bytes at all (that made this check fail 1 time in 16).
    expect(await checkCsrfToken(keys, a.sid, `${token.startsWith("A") ? "B" : "A"}${token.slice(1)}`)).toBe(
      false,
    );
    for (const bad of [undefined, null, "", 42, ["x"], "x".repeat(200), "not base64!"]) {
      expect(await checkCsrfToken(keys, a.sid, bad)).toBe(false);
    }
    // The session cookie's key and the CSRF key are different keys.
    const mac = await crypto.subtle.sign("HMAC", keys.session, new TextEncoder().encode(`csrf:${a.sid}`));
    expect(await checkCsrfToken(keys, a.sid, base64url(new Uint8Array(mac)))).toBe(false);
  });
});

describe("portal redirects after sign-in", () => {
  it("go only to portal paths of this site", () => {
    expect(safeNext("/portal/send?template=a")).toBe("/portal/send?template=a");
    for (const bad of [
      undefined,
      null,
      "",
      "https://evil.example/portal/",
      "//evil.example",
      "/portal\\..\\x",
      "/v1/campaigns",
      "/portal/ x",
    ]) {
      expect(safeNext(bad)).toBe("/portal/campaigns");
    }
  });
});
