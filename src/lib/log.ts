import { env } from "cloudflare:workers";

/**
 * Structured logs (one JSON line each, read by Workers Logs). Callers pass identifiers and codes
 * only: never request bodies, API keys, tokens or secrets.
 */
type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function enabled(level: Level): boolean {
  const threshold = ORDER[(env as Partial<Env>).LOG_LEVEL ?? "info"] ?? ORDER.info;
  return (ORDER[level] ?? 0) >= (threshold ?? 0);
}

function emit(level: Level, event: string, fields: Record<string, unknown>): void {
  if (!enabled(level)) return;
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

export const log = {
  debug: (event: string, fields: Record<string, unknown> = {}) => emit("debug", event, fields),
  info: (event: string, fields: Record<string, unknown> = {}) => emit("info", event, fields),
  warn: (event: string, fields: Record<string, unknown> = {}) => emit("warn", event, fields),
  error: (event: string, fields: Record<string, unknown> = {}) => emit("error", event, fields),
};
