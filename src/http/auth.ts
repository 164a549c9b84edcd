import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { createMiddleware } from "hono/factory";
import { getConfig } from "../config";
import { type BotRow, bots } from "../db/schema";
import { errors } from "../lib/errors";
import type { AppEnv } from "./context";

/**
 * API keys: `mmk_<keyId>_<secret>`. The key id (random, public) finds the bot; the whole key is
 * only ever stored as its SHA-256 and compared in constant time. 32 random bytes make a slow hash
 * unnecessary: the key cannot be guessed, only stolen.
 */
const KEY_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export async function generateApiKey(): Promise<{ apiKey: string; keyId: string; keyHash: string }> {
  const idBytes = crypto.getRandomValues(new Uint8Array(12));
  const keyId = Array.from(idBytes, (b) => KEY_ID_ALPHABET[b % KEY_ID_ALPHABET.length]).join("");
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const apiKey = `mmk_${keyId}_${secret}`;
  return { apiKey, keyId, keyHash: await sha256Hex(apiKey) };
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time equality of two strings (hashed first so lengths leak nothing either). */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function credential(header: string | undefined, schemes: string[]): string | null {
  if (!header) return null;
  const space = header.indexOf(" ");
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  return schemes.includes(scheme) && value ? value : null;
}

const KEY_SHAPE = /^mmk_([a-z0-9]{12})_[A-Za-z0-9_-]{43}$/;

export async function findBotByKey(env: Env, apiKey: string): Promise<BotRow | null> {
  const match = KEY_SHAPE.exec(apiKey);
  if (!match) return null;
  const bot = await drizzle(env.DB)
    .select()
    .from(bots)
    .where(eq(bots.keyId, match[1] as string))
    .get();
  if (!bot) return null;
  const hash = await sha256Hex(apiKey);
  return (await safeEqual(hash, bot.keyHash)) ? bot : null;
}

/** Bot endpoints: `Authorization: Key <apiKey>` (or `Bearer <apiKey>`). */
export const botAuth = createMiddleware<AppEnv>(async (c, next) => {
  const key = credential(c.req.header("authorization"), ["key", "bearer"]);
  const bot = key ? await findBotByKey(c.env, key) : null;
  if (!bot) throw errors.unauthorized();
  c.set("bot", bot);
  await next();
});

/** Operator endpoints: `Authorization: Bearer <ADMIN_TOKEN>`. */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const token = credential(c.req.header("authorization"), ["bearer"]);
  if (!token || !(await safeEqual(token, getConfig(c.env).ADMIN_TOKEN))) throw errors.unauthorized();
  await next();
});
