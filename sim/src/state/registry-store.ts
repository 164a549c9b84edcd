// The registry's durable data (WABAs, numbers, templates, fault and auto-webhook settings, the boot
// marker) in the DO's SQLite, loaded into memory once: it is small and read on every Graph read.
import type { BootMarker } from "../boot";
import {
  AUTO_WEBHOOKS_OFF,
  type AutoWebhookConfig,
  type NumberRecord,
  type TemplateRecord,
  type WabaRecord,
} from "../types";
import { type FaultConfig, NO_FAULTS } from "./faults";

export class RegistryStore {
  wabas = new Map<string, WabaRecord>();
  numbers = new Map<string, NumberRecord>();
  /** Per WABA, in insertion (seq) order: the order Graph pages them in. */
  templates = new Map<string, TemplateRecord[]>();
  faults: FaultConfig = structuredClone(NO_FAULTS);
  auto: AutoWebhookConfig = { ...AUTO_WEBHOOKS_OFF };
  /** The SIM_SEED / SIM_AUTO_WEBHOOKS values last applied (boot.ts); null before the first boot. */
  boot: BootMarker | null = null;
  private nextSeq = 1;

  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS reg_wabas (id TEXT PRIMARY KEY, json TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS reg_numbers (id TEXT PRIMARY KEY, json TEXT NOT NULL)");
    sql.exec(
      "CREATE TABLE IF NOT EXISTS reg_templates (seq INTEGER PRIMARY KEY, waba_id TEXT NOT NULL, name TEXT NOT NULL, language TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (waba_id, name, language))",
    );
    sql.exec("CREATE TABLE IF NOT EXISTS reg_settings (k TEXT PRIMARY KEY, json TEXT NOT NULL)");
    this.load();
  }

  private load(): void {
    for (const r of this.sql.exec<{ json: string }>("SELECT json FROM reg_wabas")) {
      const w = JSON.parse(r.json) as WabaRecord;
      this.wabas.set(w.id, w);
    }
    for (const r of this.sql.exec<{ json: string }>("SELECT json FROM reg_numbers")) {
      const n = JSON.parse(r.json) as NumberRecord;
      this.numbers.set(n.id, n);
    }
    for (const r of this.sql.exec<{ json: string }>("SELECT json FROM reg_templates ORDER BY seq")) {
      const t = JSON.parse(r.json) as TemplateRecord;
      this.templatesOf(t.wabaId).push(t);
      this.nextSeq = Math.max(this.nextSeq, t.seq + 1);
    }
    for (const r of this.sql.exec<{ k: string; json: string }>("SELECT k, json FROM reg_settings")) {
      if (r.k === "faults") this.faults = JSON.parse(r.json);
      if (r.k === "auto") this.auto = JSON.parse(r.json);
      if (r.k === "boot") this.boot = JSON.parse(r.json);
    }
  }

  templatesOf(wabaId: string): TemplateRecord[] {
    let list = this.templates.get(wabaId);
    if (!list) {
      list = [];
      this.templates.set(wabaId, list);
    }
    return list;
  }

  findTemplate(wabaId: string, name: string, language: string): TemplateRecord | undefined {
    return this.templates.get(wabaId)?.find((t) => t.name === name && t.language === language);
  }

  numbersOf(wabaId: string): NumberRecord[] {
    return [...this.numbers.values()].filter((n) => n.wabaId === wabaId);
  }

  putWaba(w: WabaRecord): void {
    this.wabas.set(w.id, w);
    this.sql.exec("INSERT OR REPLACE INTO reg_wabas (id, json) VALUES (?, ?)", w.id, JSON.stringify(w));
  }

  putNumber(n: NumberRecord): void {
    this.numbers.set(n.id, n);
    this.sql.exec("INSERT OR REPLACE INTO reg_numbers (id, json) VALUES (?, ?)", n.id, JSON.stringify(n));
  }

  /** Inserts (assigning the next seq) or replaces in place (keeping seq, hence paging order). */
  putTemplate(t: TemplateRecord): TemplateRecord {
    const list = this.templatesOf(t.wabaId);
    const i = list.findIndex((x) => x.name === t.name && x.language === t.language);
    if (i >= 0) {
      t.seq = (list[i] as TemplateRecord).seq;
      list[i] = t;
    } else {
      t.seq = this.nextSeq++;
      list.push(t);
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO reg_templates (seq, waba_id, name, language, json) VALUES (?, ?, ?, ?, ?)",
      t.seq,
      t.wabaId,
      t.name,
      t.language,
      JSON.stringify(t),
    );
    return t;
  }

  saveFaults(): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO reg_settings (k, json) VALUES ('faults', ?)",
      JSON.stringify(this.faults),
    );
  }

  saveAuto(): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO reg_settings (k, json) VALUES ('auto', ?)",
      JSON.stringify(this.auto),
    );
  }

  saveBoot(marker: BootMarker): void {
    this.boot = marker;
    this.sql.exec("INSERT OR REPLACE INTO reg_settings (k, json) VALUES ('boot', ?)", JSON.stringify(marker));
  }

  clear(): void {
    for (const t of ["reg_wabas", "reg_numbers", "reg_templates", "reg_settings"])
      this.sql.exec(`DELETE FROM ${t}`);
    this.wabas.clear();
    this.numbers.clear();
    this.templates.clear();
    this.faults = structuredClone(NO_FAULTS);
    this.auto = { ...AUTO_WEBHOOKS_OFF };
    this.boot = null;
    this.nextSeq = 1;
  }
}
