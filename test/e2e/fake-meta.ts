/**
 * An independent fake of Meta's Graph API for black-box tests, in plain Node (`node:http`).
 *
 * Written from docs/meta-platform.md only: it shares no code with `sim/` on purpose, so the e2e
 * tests check the gateway against a second reading of Meta's behaviour, the way an external
 * checker's fake would. It runs in the test's own process: tests configure it directly (WABAs,
 * numbers, templates, faults) and read back every request it received.
 */
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type OnboardingStatus =
  | "ONBOARDED"
  | "ELIGIBLE"
  | "PENDING_VALID_PAYMENT_METHOD"
  | "PENDING_INTERNAL_SETUP"
  | "INELIGIBLE_ON_BEHALF_OF_WABA"
  | "INELIGIBLE_INACTIVE_OR_RESTRICTED"
  | "INELIGIBLE_COUNTRY_NOT_SUPPORTED"
  | "INELIGIBLE_USING_WHATSAPP_BUSINESS_APP";
export type LegacyStatus = "INELIGIBLE" | "ELIGIBLE" | "ONBOARDED";

export interface FakeTemplate {
  name: string;
  language: string;
  status: string;
  category: "MARKETING" | "UTILITY" | "AUTHENTICATION";
  id?: string;
  /** Meta-format components; `bodyText` is a shorthand for one BODY component. */
  components?: Record<string, unknown>[];
  bodyText?: string;
}

export interface FakeNumber {
  id: string;
  /** Sliding one-second window of admitted sends; over it → 130429. Default 80. */
  throughputMps?: number;
  /** Meta reports throttling with 400 or 429. Default 400. */
  throttleHttpStatus?: 400 | 429;
}

export interface FakeWaba {
  id: string;
  /** `marketing_messages_onboarding_status`; null → field omitted. Default ELIGIBLE. */
  onboardingStatus?: OnboardingStatus | null;
  /** The deprecated `marketing_messages_lite_api_status`; null → omitted. Default null. */
  legacyStatus?: LegacyStatus | null;
  phoneNumbers?: FakeNumber[];
  templates?: FakeTemplate[];
}

/** What a request is, for recording and for fault matching. */
export type RequestKind = "send_cloud" | "send_mm_lite" | "waba_status" | "templates" | "other";

export interface FaultRule {
  /** Which requests: a kind, "send" (both send kinds) or "any". */
  on: RequestKind | "send" | "any";
  phoneNumberId?: string;
  wabaId?: string;
  /** Fire for at most this many matching requests (default: unlimited). */
  times?: number;
  /** Probability (0..1] of firing on a matching request, from a seeded generator. Default 1. */
  rate?: number;
  /**
   * Seed of this rule's own generator for `rate`; without it the rule draws from the fake's shared
   * one. Its own seed keeps the rule's draws independent of other rules and of earlier tests.
   */
  seed?: number;
  /**
   * Sends only: fire at most this many times for one recipient (the send's `to`). Bounds the
   * refusals a single message can meet, so a test can stay inside the sender's retry budget.
   */
  maxPerRecipient?: number;
  httpStatus: number;
  /** Graph error code; omitted → the answer is `rawBody` (or an empty body). */
  code?: number;
  subcode?: number;
  message?: string;
  /** A non-Graph body (e.g. a proxy's HTML 502). Used only when `code` is absent. */
  rawBody?: string;
}

export interface FaultHandle {
  readonly fired: number;
  remove(): void;
}

export interface RecordedRequest {
  seq: number;
  /** Arrival time, ms since the epoch. */
  at: number;
  method: string;
  /** Path without the query, e.g. `/v25.0/106540352242922/messages`. */
  path: string;
  query: Record<string, string>;
  kind: RequestKind;
  /** Graph version from the path (`v25.0`), or null. */
  version: string | null;
  /** Phone number id of a send, WABA id of a read. */
  phoneNumberId?: string;
  wabaId?: string;
  authorization: string | undefined;
  contentType: string | undefined;
  rawBody: string;
  /** Parsed JSON body, or undefined. */
  body: any;
  status: number;
  response: any;
  /** For accepted sends: the wamid and which product carried it (MM Lite may fall back). */
  wamid?: string;
  carriedBy?: "mm_lite" | "cloud_api";
}

export interface FakeMetaOptions {
  accessToken?: string;
  appSecret?: string;
  /** Seed of the fault-rate generator (deterministic runs). */
  seed?: number;
  /** Largest page of `message_templates` (caps `limit`); small values force paging. Default 1000. */
  maxPageSize?: number;
  /**
   * How long an idle keep-alive connection stays open, ms. Default 120 s: a server closing an idle
   * connection just as the client reuses it makes that request fail with a reset.
   */
  keepAliveTimeoutMs?: number;
}

interface NumberState {
  wabaId: string;
  config: Required<FakeNumber>;
  /** Arrival times of admitted sends within the last second. */
  window: number[];
}

interface TemplateState extends FakeTemplate {
  id: string;
}

interface WabaState {
  id: string;
  onboardingStatus: OnboardingStatus | null;
  legacyStatus: LegacyStatus | null;
  templates: TemplateState[];
}

interface ActiveFault {
  rule: FaultRule;
  fired: number;
  /** The rule's own generator (`rule.seed`), else undefined: the shared one. */
  rng: (() => number) | undefined;
  /** Times fired per recipient (`rule.maxPerRecipient`). */
  perRecipient: Map<string, number>;
}

const VERSION_RE = /^\/(v\d+\.\d+)(\/.*)?$/;
const TO_RE = /^\+?[1-9]\d{4,14}$/;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
const DEFAULT_TEMPLATE_FIELDS = [
  "name",
  "parameter_format",
  "components",
  "language",
  "status",
  "category",
  "id",
];
const STATUS_FIELDS = new Set([
  "id",
  "name",
  "marketing_messages_onboarding_status",
  "marketing_messages_lite_api_status",
]);

export class FakeMeta {
  readonly accessToken: string;
  readonly appSecret: string;
  private readonly server: Server;
  private readonly maxPageSize: number;
  private port = 0;
  private rng: () => number;
  private seq = 0;
  private wamidSeq = 0;
  private readonly wabas = new Map<string, WabaState>();
  private readonly numbers = new Map<string, NumberState>();
  private faults: ActiveFault[] = [];
  private readonly log: RecordedRequest[] = [];

  private constructor(opts: FakeMetaOptions) {
    this.accessToken = opts.accessToken ?? "e2e-meta-token";
    this.appSecret = opts.appSecret ?? "e2e-app-secret";
    this.maxPageSize = opts.maxPageSize ?? 1000;
    this.rng = mulberry32(opts.seed ?? 1);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`fake-meta bug: ${err instanceof Error ? err.message : String(err)}`);
        }
      });
    });
    // MMLITE_E2E_KEEPALIVE_MS (test/e2e/README.md) overrides the default for every test file at once.
    const fromEnv = Number(process.env.MMLITE_E2E_KEEPALIVE_MS);
    this.server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? (fromEnv > 0 ? fromEnv : 120_000);
  }

  /** Starts on 127.0.0.1 on a free port. */
  static async start(opts: FakeMetaOptions = {}): Promise<FakeMeta> {
    const fake = new FakeMeta(opts);
    await new Promise<void>((resolve, reject) => {
      fake.server.once("error", reject);
      fake.server.listen(0, "127.0.0.1", () => resolve());
    });
    fake.port = (fake.server.address() as AddressInfo).port;
    return fake;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the gateway gets as META_GRAPH_URL. */
  graphUrl(version = "v25.0"): string {
    return `${this.origin}/${version}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- configuration

  /** Creates or merges a WABA (its numbers and templates are upserted, nothing is removed). */
  upsertWaba(waba: FakeWaba): void {
    let state = this.wabas.get(waba.id);
    if (!state) {
      state = { id: waba.id, onboardingStatus: "ELIGIBLE", legacyStatus: null, templates: [] };
      this.wabas.set(waba.id, state);
    }
    if (waba.onboardingStatus !== undefined) state.onboardingStatus = waba.onboardingStatus;
    if (waba.legacyStatus !== undefined) state.legacyStatus = waba.legacyStatus;
    for (const n of waba.phoneNumbers ?? []) this.upsertNumber(waba.id, n);
    for (const t of waba.templates ?? []) this.upsertTemplate(waba.id, t);
  }

  setOnboarding(
    wabaId: string,
    onboardingStatus: OnboardingStatus | null,
    legacyStatus?: LegacyStatus | null,
  ) {
    const waba = this.waba(wabaId);
    waba.onboardingStatus = onboardingStatus;
    if (legacyStatus !== undefined) waba.legacyStatus = legacyStatus;
  }

  upsertNumber(wabaId: string, n: FakeNumber): void {
    this.waba(wabaId);
    const existing = this.numbers.get(n.id);
    const config: Required<FakeNumber> = {
      id: n.id,
      throughputMps: n.throughputMps ?? existing?.config.throughputMps ?? 80,
      throttleHttpStatus: n.throttleHttpStatus ?? existing?.config.throttleHttpStatus ?? 400,
    };
    this.numbers.set(n.id, { wabaId, config, window: existing?.window ?? [] });
  }

  upsertTemplate(wabaId: string, t: FakeTemplate): void {
    const waba = this.waba(wabaId);
    const i = waba.templates.findIndex((x) => x.name === t.name && x.language === t.language);
    const prev = i >= 0 ? waba.templates[i] : undefined;
    const next: TemplateState = {
      ...prev,
      ...t,
      id: t.id ?? prev?.id ?? String(10n ** 15n + BigInt(++this.seq)),
    };
    if (i >= 0) waba.templates[i] = next;
    else waba.templates.push(next);
  }

  /** Adds a fault rule; rules are tried in the order they were added, the first that fires wins. */
  addFault(rule: FaultRule): FaultHandle {
    const active: ActiveFault = {
      rule,
      fired: 0,
      rng: rule.seed !== undefined ? mulberry32(rule.seed) : undefined,
      perRecipient: new Map(),
    };
    this.faults.push(active);
    return {
      get fired() {
        return active.fired;
      },
      remove: () => {
        this.faults = this.faults.filter((f) => f !== active);
      },
    };
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Forgets WABAs, numbers, faults and recorded requests. */
  reset(seed = 1): void {
    this.wabas.clear();
    this.numbers.clear();
    this.faults = [];
    this.log.length = 0;
    this.rng = mulberry32(seed);
  }

  // ---------------------------------------------------------------- what Meta saw

  requests(filter: (r: RecordedRequest) => boolean = () => true): RecordedRequest[] {
    return this.log.filter(filter);
  }

  /** Send attempts (accepted or not), optionally of one phone number, in arrival order. */
  sends(phoneNumberId?: string): RecordedRequest[] {
    return this.log.filter(
      (r) =>
        (r.kind === "send_cloud" || r.kind === "send_mm_lite") &&
        (phoneNumberId === undefined || r.phoneNumberId === phoneNumberId),
    );
  }

  /** Accepted sends (Meta answered a wamid). */
  acceptedSends(phoneNumberId?: string): RecordedRequest[] {
    return this.sends(phoneNumberId).filter((r) => r.wamid !== undefined);
  }

  /** Largest number of admitted sends of a number in any one-second window, as Meta counts them. */
  maxInAnySecond(phoneNumberId: string): number {
    const times = this.acceptedSends(phoneNumberId).map((r) => r.at);
    let best = 0;
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while ((times[hi] as number) - (times[lo] as number) >= 1000) lo++;
      best = Math.max(best, hi - lo + 1);
    }
    return best;
  }

  /** Polls until `predicate` holds (bounded); answers the last value it returned truthy. */
  async waitFor<T>(
    predicate: () => T | undefined | false,
    timeoutMs = 20_000,
    what = "condition",
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v) return v;
      if (Date.now() > deadline)
        throw new Error(`fake-meta: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // ---------------------------------------------------------------- webhooks

  /** `sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the app secret. */
  sign(rawBody: string, secret = this.appSecret): string {
    return `sha256=${createHmac("sha256", secret).update(rawBody, "utf8").digest("hex")}`;
  }

  /**
   * POSTs a notification to `url` as Meta does. `signature: null` sends none; a string replaces it
   * (for bad-signature tests). Objects are serialised once and signed on exactly those bytes.
   */
  async postWebhook(
    url: string,
    payload: unknown,
    opts: { secret?: string; signature?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const raw = typeof payload === "string" ? payload : JSON.stringify(payload);
    const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
    const signature = opts.signature === undefined ? this.sign(raw, opts.secret) : opts.signature;
    if (signature !== null) headers["x-hub-signature-256"] = signature;
    return fetch(url, { method: "POST", headers, body: raw, signal: AbortSignal.timeout(15_000) });
  }

  // ---------------------------------------------------------------- HTTP

  private waba(id: string): WabaState {
    const waba = this.wabas.get(id);
    if (!waba) {
      const created: WabaState = { id, onboardingStatus: "ELIGIBLE", legacyStatus: null, templates: [] };
      this.wabas.set(id, created);
      return created;
    }
    return waba;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.origin);
    const query = Object.fromEntries(url.searchParams);
    let body: unknown;
    try {
      body = rawBody.length > 0 ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const rec: RecordedRequest = {
      seq: this.log.length + 1,
      at,
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      kind: "other",
      version: null,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      rawBody,
      body,
      status: 0,
      response: undefined,
    };
    this.log.push(rec);
    const answer = this.route(rec, url);
    rec.status = answer.status;
    rec.response = answer.body;
    const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      "content-type": typeof answer.body === "string" ? "text/html" : "application/json; charset=UTF-8",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  }

  private route(rec: RecordedRequest, url: URL): Answer {
    const m = VERSION_RE.exec(url.pathname);
    const parts = (m?.[2] ?? "").split("/").filter(Boolean).map(decodeURIComponent);
    rec.version = m?.[1] ?? null;
    if (rec.method === "POST" && parts.length === 2 && parts[1] === "messages") {
      rec.kind = "send_cloud";
      rec.phoneNumberId = parts[0];
    } else if (rec.method === "POST" && parts.length === 2 && parts[1] === "marketing_messages") {
      rec.kind = "send_mm_lite";
      rec.phoneNumberId = parts[0];
    } else if (rec.method === "GET" && parts.length === 2 && parts[1] === "message_templates") {
      rec.kind = "templates";
      rec.wabaId = parts[0];
    } else if (rec.method === "GET" && parts.length === 1 && this.wabas.has(parts[0] as string)) {
      rec.kind = "waba_status";
      rec.wabaId = parts[0];
    }
    if (rec.phoneNumberId) rec.wabaId = this.numbers.get(rec.phoneNumberId)?.wabaId;

    // Auth: a Bearer token (or ?access_token=) is checked before anything else.
    const bearer = /^Bearer\s+(.+)$/i.exec(rec.authorization ?? "")?.[1]?.trim() ?? rec.query.access_token;
    if (bearer !== this.accessToken) {
      return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    if (!m) return unsupported(rec);

    switch (rec.kind) {
      case "send_cloud":
      case "send_mm_lite":
        return this.send(rec);
      case "waba_status":
        return this.fault(rec) ?? this.wabaStatus(rec);
      case "templates":
        return this.fault(rec) ?? this.templates(rec, url);
      default:
        return unsupported(rec);
    }
  }

  private fault(rec: RecordedRequest): Answer | undefined {
    for (const f of this.faults) {
      const r = f.rule;
      const kindOk =
        r.on === "any" ||
        r.on === rec.kind ||
        (r.on === "send" && (rec.kind === "send_cloud" || rec.kind === "send_mm_lite"));
      if (!kindOk) continue;
      if (r.phoneNumberId !== undefined && r.phoneNumberId !== rec.phoneNumberId) continue;
      if (r.wabaId !== undefined && r.wabaId !== rec.wabaId) continue;
      if (r.times !== undefined && f.fired >= r.times) continue;
      // Checked before the rate draw, so a capped recipient does not consume the generator.
      const to = typeof rec.body?.to === "string" ? rec.body.to : "";
      const firedForTo = f.perRecipient.get(to) ?? 0;
      if (r.maxPerRecipient !== undefined && firedForTo >= r.maxPerRecipient) continue;
      if (r.rate !== undefined && (f.rng ?? this.rng)() >= r.rate) continue;
      f.fired++;
      if (r.maxPerRecipient !== undefined) f.perRecipient.set(to, firedForTo + 1);
      if (r.code === undefined) return { status: r.httpStatus, body: r.rawBody ?? "" };
      return graphError(
        r.httpStatus,
        r.code,
        r.message ?? defaultMessage(r.code),
        "OAuthException",
        r.subcode,
      );
    }
    return undefined;
  }

  private send(rec: RecordedRequest): Answer {
    const number = rec.phoneNumberId ? this.numbers.get(rec.phoneNumberId) : undefined;
    if (!number) {
      return graphError(
        400,
        100,
        `Unsupported post request. Object with ID '${rec.phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        "GraphMethodException",
        33,
      );
    }
    // Throughput: a sliding one-second window of admitted sends, checked before anything else.
    number.window = number.window.filter((t) => rec.at - t < 1000);
    if (number.window.length >= number.config.throughputMps) {
      return graphError(
        number.config.throttleHttpStatus,
        130429,
        "(#130429) Rate limit hit",
        "OAuthException",
        2494055,
      );
    }
    const fault = this.fault(rec);
    if (fault) return fault;

    const b = rec.body as Record<string, any> | undefined;
    const mmLite = rec.kind === "send_mm_lite";
    const invalid = validateSendBody(b, mmLite);
    if (invalid) return graphError(400, 100, `(#100) Invalid parameter: ${invalid}`, "OAuthException");
    const body = b as Record<string, any>;

    const waba = this.waba(number.wabaId);
    const template = waba.templates.find(
      (t) => t.name === body.template.name && t.language === body.template.language.code,
    );
    if (!template) {
      return graphError(
        404,
        132001,
        "(#132001) Template name does not exist in the translation",
        "OAuthException",
      );
    }
    if (template.status === "PAUSED")
      return graphError(400, 132015, "(#132015) Template is paused", "OAuthException");
    if (template.status === "DISABLED") {
      return graphError(400, 132016, "(#132016) Template has been disabled", "OAuthException");
    }
    if (template.status !== "APPROVED") {
      return graphError(
        404,
        132001,
        "(#132001) Template name does not exist in the translation",
        "OAuthException",
      );
    }
    const expected = placeholders(templateComponents(template)).length;
    const given = bodyParameters(body.template.components).length;
    if (expected !== given) {
      return graphError(
        400,
        132000,
        "(#132000) Number of parameters does not match the expected number of params",
        "OAuthException",
      );
    }

    let carriedBy: "mm_lite" | "cloud_api" = mmLite ? "mm_lite" : "cloud_api";
    if (mmLite) {
      if (template.category !== "MARKETING") {
        return graphError(400, 134100, "(#134100) Only marketing messages are supported", "OAuthException");
      }
      const onboarded = waba.onboardingStatus === "ONBOARDED" || waba.legacyStatus === "ONBOARDED";
      if (!onboarded) {
        if (body.product_policy === "STRICT") {
          return graphError(
            400,
            131055,
            "(#131055) Method not allowed: (#200) You must accept the Marketing Messages Lite API terms",
            "OAuthException",
          );
        }
        carriedBy = "cloud_api"; // CLOUD_API_FALLBACK (the default): Meta sends it through the Cloud API.
      }
    }

    number.window.push(rec.at);
    const wamid = this.newWamid();
    rec.wamid = wamid;
    rec.carriedBy = carriedBy;
    const waId = String(body.to).replace(/^\+/, "");
    return {
      status: 200,
      body: {
        messaging_product: "whatsapp",
        contacts: [{ input: body.to, wa_id: waId }],
        messages: [{ id: wamid, message_status: "accepted" }],
      },
    };
  }

  private wabaStatus(rec: RecordedRequest): Answer {
    const waba = this.waba(rec.wabaId as string);
    const fields = (rec.query.fields ?? "id,name")
      .split(",")
      .map((f) => f.trim())
      .filter(Boolean);
    const unknown = fields.find((f) => !STATUS_FIELDS.has(f));
    if (unknown) {
      return graphError(400, 100, `(#100) Tried accessing nonexisting field (${unknown})`, "OAuthException");
    }
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (f === "name") out.name = `WABA ${waba.id}`;
      if (f === "marketing_messages_onboarding_status" && waba.onboardingStatus !== null) {
        out[f] = waba.onboardingStatus;
      }
      if (f === "marketing_messages_lite_api_status" && waba.legacyStatus !== null)
        out[f] = waba.legacyStatus;
    }
    out.id = waba.id;
    return { status: 200, body: out };
  }

  private templates(rec: RecordedRequest, url: URL): Answer {
    const waba = this.wabas.get(rec.wabaId as string);
    if (!waba) {
      return graphError(
        400,
        100,
        `Unsupported get request. Object with ID '${rec.wabaId}' does not exist.`,
        "GraphMethodException",
        33,
      );
    }
    const q = rec.query;
    const fields = (q.fields ?? DEFAULT_TEMPLATE_FIELDS.join(",")).split(",").map((f) => f.trim());
    // Meta's name filter is looser than equality (a substring match): callers compare names themselves.
    const all = waba.templates.filter(
      (t) =>
        (q.name === undefined || t.name.toLowerCase().includes(q.name.toLowerCase())) &&
        (q.language === undefined || t.language === q.language) &&
        (q.status === undefined || t.status === q.status) &&
        (q.category === undefined || t.category === q.category),
    );
    const requested = Number.parseInt(q.limit ?? "25", 10);
    const limit = Math.min(this.maxPageSize, Number.isFinite(requested) && requested > 0 ? requested : 25);
    let start = 0;
    if (q.after !== undefined) {
      const decoded = decodeCursor(q.after);
      if (decoded === null) return graphError(400, 100, "(#100) Invalid cursor", "OAuthException");
      start = decoded + 1;
    }
    const page = all.slice(start, start + limit);
    const data = page.map((t) => {
      const full: Record<string, unknown> = {
        name: t.name,
        parameter_format: placeholders(templateComponents(t)).some((p) => !/^\d+$/.test(p))
          ? "NAMED"
          : "POSITIONAL",
        components: templateComponents(t),
        language: t.language,
        status: t.status,
        category: t.category,
        id: t.id,
      };
      return Object.fromEntries(fields.filter((f) => f in full).map((f) => [f, full[f]]));
    });
    if (data.length === 0) return { status: 200, body: { data: [] } };
    const paging: Record<string, unknown> = {
      cursors: { before: encodeCursor(start), after: encodeCursor(start + page.length - 1) },
    };
    if (start + page.length < all.length) {
      const next = new URL(url.href);
      next.searchParams.delete("before");
      next.searchParams.set("after", encodeCursor(start + page.length - 1));
      paging.next = next.href;
    }
    return { status: 200, body: { data, paging } };
  }

  private newWamid(): string {
    this.wamidSeq++;
    const unique = Buffer.concat([Buffer.from(`e2e${this.wamidSeq}:`), randomBytes(12)]).toString("base64");
    return `wamid.${unique.replace(/=+$/, "")}`;
  }
}

// ------------------------------------------------------------------ webhook payload builders

export interface StatusEvent {
  wamid: string;
  status: "sent" | "delivered" | "read" | "failed" | "played";
  recipientId: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** `marketing_lite` (MM Lite carried it), `marketing`, `utility`, … ; omitted → no pricing. */
  pricingCategory?: string;
  errors?: { code: number; title: string; message?: string; details?: string }[];
}

/** A `messages` notification carrying `statuses` (one POST may batch several). */
export function statusNotification(args: {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber?: string;
  statuses: StatusEvent[];
}) {
  return whatsappNotification(args.wabaId, "messages", {
    messaging_product: "whatsapp",
    metadata: {
      display_phone_number: args.displayPhoneNumber ?? "15550783881",
      phone_number_id: args.phoneNumberId,
    },
    statuses: args.statuses.map((s) => ({
      id: s.wamid,
      status: s.status,
      timestamp: String(s.timestamp ?? Math.floor(Date.now() / 1000)),
      recipient_id: s.recipientId,
      ...(s.pricingCategory !== undefined
        ? {
            conversation: {
              id: randomBytes(16).toString("hex"),
              origin: { type: s.pricingCategory === "marketing_lite" ? "marketing" : s.pricingCategory },
            },
            pricing: { billable: true, pricing_model: "PMP", type: "regular", category: s.pricingCategory },
          }
        : {}),
      ...(s.errors
        ? {
            errors: s.errors.map((e) => ({
              code: e.code,
              title: e.title,
              message: e.message ?? e.title,
              error_data: { details: e.details ?? e.title },
            })),
          }
        : {}),
    })),
  });
}

/** Marketing opt-out (`stop`) or opt-in again (`resume`). */
export function userPreferencesNotification(args: {
  wabaId: string;
  phoneNumberId: string;
  waId: string;
  value: "stop" | "resume";
  timestamp?: number;
}) {
  return whatsappNotification(args.wabaId, "user_preferences", {
    messaging_product: "whatsapp",
    metadata: { display_phone_number: "15550783881", phone_number_id: args.phoneNumberId },
    contacts: [{ wa_id: args.waId, profile: { name: "E2E" } }],
    user_preferences: [
      {
        wa_id: args.waId,
        detail: "User requested to stop marketing messages",
        category: "marketing_messages",
        value: args.value,
        timestamp: args.timestamp ?? Math.floor(Date.now() / 1000),
      },
    ],
  });
}

/** `account_update` `MM_LITE_TERMS_SIGNED`: Meta announces the WABA's MM Lite onboarding. */
export function mmLiteTermsSignedNotification(args: { wabaId: string; ownerBusinessId: string }) {
  return whatsappNotification(args.wabaId, "account_update", {
    event: "MM_LITE_TERMS_SIGNED",
    waba_info: { waba_id: args.wabaId, owner_business_id: args.ownerBusinessId },
  });
}

export function templateStatusNotification(args: {
  wabaId: string;
  templateId: string;
  name: string;
  language: string;
  event: string;
  reason?: string;
}) {
  return whatsappNotification(args.wabaId, "message_template_status_update", {
    event: args.event,
    message_template_id: Number(args.templateId),
    message_template_name: args.name,
    message_template_language: args.language,
    reason: args.reason ?? "NONE",
  });
}

export function templateCategoryNotification(args: {
  wabaId: string;
  templateId: string;
  name: string;
  language: string;
  previousCategory: string;
  newCategory: string;
}) {
  return whatsappNotification(args.wabaId, "template_category_update", {
    message_template_id: Number(args.templateId),
    message_template_name: args.name,
    message_template_language: args.language,
    previous_category: args.previousCategory,
    new_category: args.newCategory,
  });
}

function whatsappNotification(wabaId: string, field: string, value: Record<string, unknown>) {
  return {
    object: "whatsapp_business_account",
    entry: [{ id: wabaId, time: Math.floor(Date.now() / 1000), changes: [{ field, value }] }],
  };
}

// ------------------------------------------------------------------ helpers

interface Answer {
  status: number;
  body: unknown;
}

function graphError(status: number, code: number, message: string, type: string, subcode?: number): Answer {
  return {
    status,
    body: {
      error: {
        message,
        type,
        code,
        ...(subcode !== undefined ? { error_subcode: subcode } : {}),
        error_data: { messaging_product: "whatsapp", details: message.replace(/^\(#\d+\)\s*/, "") },
        fbtrace_id: `A${randomBytes(9).toString("base64url")}`,
      },
    },
  };
}

function unsupported(rec: RecordedRequest): Answer {
  return graphError(
    400,
    100,
    `Unsupported ${rec.method.toLowerCase()} request. Object with ID '${rec.path}' does not exist.`,
    "GraphMethodException",
    33,
  );
}

function defaultMessage(code: number): string {
  switch (code) {
    case 130429:
      return "(#130429) Rate limit hit";
    case 131055:
      return "(#131055) Method not allowed: Only marketing template messages are supported";
    case 134100:
      return "(#134100) Only marketing messages are supported";
    case 134102:
      return "(#134102) Template unavailable for Marketing Messages Lite API";
    case 1:
      return "An unknown error occurred";
    case 2:
      return "Service temporarily unavailable";
    case 131049:
      return "(#131049) This message was not delivered to maintain healthy ecosystem engagement.";
    default:
      return `(#${code}) Error ${code}`;
  }
}

/** Checks the template-send body shape (meta-platform.md "Sending"); answers what is wrong or null. */
function validateSendBody(b: Record<string, any> | undefined, mmLite: boolean): string | null {
  if (!b || typeof b !== "object" || Array.isArray(b)) return "body must be a JSON object";
  if (b.messaging_product !== "whatsapp") return "messaging_product must be whatsapp";
  if (b.recipient_type !== undefined && b.recipient_type !== "individual") return "recipient_type";
  if (typeof b.to !== "string" || !TO_RE.test(b.to)) return "to";
  if (b.type !== "template") return "type must be template";
  const t = b.template;
  if (!t || typeof t !== "object" || typeof t.name !== "string" || t.name.length === 0)
    return "template.name";
  if (!t.language || typeof t.language.code !== "string") return "template.language.code";
  if (t.components !== undefined) {
    if (!Array.isArray(t.components)) return "template.components";
    for (const c of t.components) {
      if (!c || typeof c.type !== "string") return "template.components[].type";
      const type = c.type.toLowerCase();
      if (!["header", "body", "button", "footer"].includes(type)) return "template.components[].type";
      if (c.parameters !== undefined && !Array.isArray(c.parameters))
        return "template.components[].parameters";
      if (type === "button" && (typeof c.index !== "string" || typeof c.sub_type !== "string")) {
        return "button components need sub_type and a string index";
      }
      for (const p of c.parameters ?? []) {
        if (!p || typeof p.type !== "string") return "parameters[].type";
        if (p.type === "text" && typeof p.text !== "string") return "parameters[].text";
      }
    }
  }
  if (mmLite) {
    if (b.product_policy !== undefined && !["CLOUD_API_FALLBACK", "STRICT"].includes(b.product_policy)) {
      return "product_policy";
    }
    if (b.message_activity_sharing !== undefined && typeof b.message_activity_sharing !== "boolean") {
      return "message_activity_sharing";
    }
  } else if (b.product_policy !== undefined) {
    return "product_policy is only valid on marketing_messages";
  }
  return null;
}

function templateComponents(t: FakeTemplate): Record<string, unknown>[] {
  if (t.components) return t.components;
  return t.bodyText !== undefined ? [{ type: "BODY", text: t.bodyText }] : [];
}

/** Distinct placeholders of the BODY text (`{{1}}` or `{{name}}`), in order of first appearance. */
function placeholders(components: Record<string, unknown>[]): string[] {
  const body = components.find((c) => String(c.type).toUpperCase() === "BODY");
  const text = typeof body?.text === "string" ? body.text : "";
  const names: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER_RE))
    if (!names.includes(m[1] as string)) names.push(m[1] as string);
  return names;
}

function bodyParameters(components: unknown): unknown[] {
  if (!Array.isArray(components)) return [];
  const body = components.find((c) => String(c?.type).toLowerCase() === "body");
  return Array.isArray(body?.parameters) ? body.parameters : [];
}

/** Body text parameters of a recorded send, in order (what the recipient will read). */
export function sentBodyTexts(rec: RecordedRequest): string[] {
  return bodyParameters(rec.body?.template?.components).map((p: any) => p?.text);
}

function encodeCursor(i: number): string {
  return Buffer.from(`idx:${i}`).toString("base64url");
}

function decodeCursor(c: string): number | null {
  const m = /^idx:(\d+)$/.exec(Buffer.from(c, "base64url").toString("utf8"));
  return m ? Number(m[1]) : null;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
