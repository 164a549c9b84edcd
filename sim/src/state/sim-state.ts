// The simulator's only Durable Object class. An instance plays one role, chosen by its name: the
// "registry" (see registry.ts) or a "line:<phone number id>" (see line.ts). Methods are prefixed by
// role; the role objects are created lazily so an instance only builds the tables it uses.
import { DurableObject } from "cloudflare:workers";
import type { EventInput, FaultsInput, NumberPatch, TemplatePatch, WabaInput } from "../control/schemas";
import type { GraphOutcome } from "../graph/errors";
import type { SendCheck } from "../graph/send-validate";
import type { SeedName } from "../seeds";
import type { AutoWebhookConfig, LineConfig, SendEndpoint } from "../types";
import { type EventResult, resolveEvent } from "./events";
import type { FaultTarget } from "./faults";
import { GraphReads } from "./graph-reads";
import { Line } from "./line";
import { Registry } from "./registry";
import { collectStats, findMessages, listMessages } from "./rollup";

export class SimState extends DurableObject<SimEnv> {
  private registryRole?: Registry;
  private readsRole?: GraphReads;
  private lineRole?: Line;

  private get registry(): Registry {
    this.registryRole ??= new Registry(this.ctx, this.env);
    return this.registryRole;
  }
  private get reads(): GraphReads {
    this.readsRole ??= new GraphReads(this.registry);
    return this.readsRole;
  }
  private get line(): Line {
    this.lineRole ??= new Line(this.ctx, this.env);
    return this.lineRole;
  }

  // ---- registry role ----
  async registryReset() {
    this.reads.reset();
    await this.registry.reset();
  }
  registryBoot() {
    return this.registry.boot();
  }
  registrySeed(name: SeedName) {
    return this.registry.applySeed(name);
  }
  registryUpsertWaba(id: string, input: WabaInput) {
    return this.registry.upsertWaba(id, input);
  }
  registryGetWaba(id: string) {
    return this.registry.wabaView(id);
  }
  registryPutTemplate(wabaId: string, name: string, language: string, patch: TemplatePatch) {
    return this.registry.putTemplate(wabaId, name, language, patch);
  }
  registrySetNumber(id: string, patch: NumberPatch) {
    return this.registry.setNumber(id, patch);
  }
  registrySetFaults(input: FaultsInput) {
    return this.registry.setFaults(input);
  }
  registryGetFaults() {
    return this.registry.store.faults;
  }
  registrySetAutoWebhooks(cfg: AutoWebhookConfig) {
    return this.registry.setAutoWebhooks(cfg);
  }
  registryGetAutoWebhooks() {
    return this.registry.store.auto;
  }
  registryPickFault(target: FaultTarget) {
    return this.registry.pickFault(target);
  }
  registryRecordUnknownSend(endpoint: SendEndpoint) {
    this.registry.recordUnknownSend(endpoint);
  }
  registryRecordWebhooks(posted: number, failed: number) {
    this.registry.recordWebhooks(posted, failed);
  }
  registryReadNode(id: string, fields: string | null): GraphOutcome {
    return this.reads.readNode(id, fields);
  }
  registryReadTemplates(wabaId: string, url: string): GraphOutcome {
    return this.reads.readTemplates(wabaId, url);
  }
  registryStats() {
    return collectStats(this.registry, this.env);
  }
  registryMessages(sinceMs: number, limit: number, phoneNumberId?: string) {
    return listMessages(this.registry, this.env, sinceMs, limit, phoneNumberId);
  }
  registryFindMessages(wamids: string[] | "all") {
    return findMessages(this.registry, this.env, wamids);
  }
  registryEvent(input: EventInput): Promise<EventResult> {
    return resolveEvent(this.registry, input);
  }

  // ---- line role ----
  lineConfigure(cfg: LineConfig | null) {
    this.line.configure(cfg);
  }
  lineReset() {
    return this.line.reset();
  }
  lineSend(
    endpoint: SendEndpoint,
    phoneNumberId: string,
    check: SendCheck,
    arrivedAt?: number,
  ): Promise<GraphOutcome> {
    return this.line.send(endpoint, phoneNumberId, check, arrivedAt);
  }
  lineStats(phoneNumberId: string) {
    return this.line.stats(phoneNumberId);
  }
  lineMessagesSince(sinceMs: number, limit: number) {
    return this.line.messagesSince(sinceMs, limit);
  }
  lineFindMessages(wamids: string[] | null) {
    return this.line.findMessages(wamids);
  }

  /** Only lines set alarms (auto-emitted webhooks). */
  override async alarm(): Promise<void> {
    await this.line.alarm();
  }
}
