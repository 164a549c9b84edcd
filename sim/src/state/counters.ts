// Named integer counters in a DO's SQLite, kept in memory and written back in batches. A send bumps
// four or five counters; writing each through to SQLite cost ~40% of a line's throughput, so dirty
// counters are flushed a moment later instead (reads always come from memory, so stats are exact;
// only a crash inside that moment could lose increments, which a simulator can live with).

const FLUSH_DELAY_MS = 200;

export class Counters {
  private values = new Map<string, number>();
  private dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly table: string,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`);
    for (const row of sql.exec<{ k: string; n: number }>(`SELECT k, n FROM ${table}`))
      this.values.set(row.k, row.n);
  }

  inc(key: string, by = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + by);
    this.dirty.add(key);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  /** Raises `key` to `value` if higher (used for high-water marks). */
  max(key: string, value: number): void {
    const current = this.values.get(key) ?? 0;
    if (value > current) this.inc(key, value - current);
  }

  get(key: string): number {
    return this.values.get(key) ?? 0;
  }

  all(): Record<string, number> {
    return Object.fromEntries(this.values);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const k of this.dirty)
      this.sql.exec(
        `INSERT INTO ${this.table} (k, n) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET n = excluded.n`,
        k,
        this.values.get(k) ?? 0,
      );
    this.dirty.clear();
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.values.clear();
    this.dirty.clear();
    this.sql.exec(`DELETE FROM ${this.table}`);
  }
}
