import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export function db(env: { DB: D1Database }) {
  return drizzle(env.DB, { schema });
}

/**
 * A drizzle query as a raw D1 statement, so typed inserts can join one atomic `DB.batch` with
 * statements built elsewhere (e.g. the stored idempotent answer).
 */
export function statement(d1: D1Database, query: { toSQL(): { sql: string; params: unknown[] } }) {
  const { sql, params } = query.toSQL();
  return d1.prepare(sql).bind(...params);
}
