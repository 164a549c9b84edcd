import { MetaApiError, MetaUnreachableError, redact } from "./errors";
import { buildTemplateMessageBody } from "./messages";
import { templateParamNames } from "./templates";
import type {
  GraphErrorBody,
  ListTemplatesOptions,
  MetaProduct,
  MetaTemplate,
  SendResult,
  TemplateMessage,
  WabaOnboardingStatus,
} from "./types";

export interface MetaClientOptions {
  /** Graph base including the version, e.g. `https://graph.facebook.com/v25.0` or `http://meta-sim/v25.0`. */
  baseUrl: string;
  accessToken: string;
  /** The transport: a service binding's fetch, or the global fetch. */
  fetch: (req: Request) => Promise<Response>;
  /** Bound on each request, answer body included (default 10 s). */
  timeoutMs?: number;
}

const TEMPLATE_FIELDS = "id,name,language,status,category,components";
const STATUS_FIELDS = "marketing_messages_onboarding_status,marketing_messages_lite_api_status";
const PAGE_SIZE = 100;
/** A name filter leaves one template per language: a few pages at most. */
const FIND_MAX_PAGES = 10;
const LIST_MAX_PAGES = 20;

/** Transport failures that prove the request never left (nothing can have reached Meta). */
const NOT_SENT = /ECONNREFUSED|connection refused|ENOTFOUND|getaddrinfo|DNS lookup failed|invalid url/i;

/**
 * The Graph API calls the gateway makes. Every failure is a MetaApiError (Meta answered with an
 * error) or a MetaUnreachableError (no usable answer); the access token never appears in either.
 */
export class MetaClient {
  private readonly base: string;
  private readonly origin: string;
  private readonly accessToken: string;
  private readonly transport: (req: Request) => Promise<Response>;
  private readonly timeoutMs: number;

  constructor(opts: MetaClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, "");
    this.origin = new URL(this.base).origin;
    this.accessToken = opts.accessToken;
    this.transport = opts.fetch;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** One template message through MM Lite (`/marketing_messages`) or the Cloud API (`/messages`). */
  async sendTemplate(product: MetaProduct, phoneNumberId: string, msg: TemplateMessage): Promise<SendResult> {
    const edge = product === "mm_lite" ? "marketing_messages" : "messages";
    const url = `${this.base}/${seg(phoneNumberId)}/${edge}`;
    const answer = await this.request("POST", url, buildTemplateMessageBody(product, msg));
    const message = first(answer.messages);
    if (typeof message?.id !== "string") throw badResponse(`POST ${pathOf(url)}`, "no message id");
    const contact = first(answer.contacts);
    return {
      wamid: message.id,
      // Older answers carry no status; Meta's documented default is "accepted".
      messageStatus: typeof message.message_status === "string" ? message.message_status : "accepted",
      ...(typeof contact?.wa_id === "string" ? { waId: contact.wa_id } : {}),
    };
  }

  /** MM Lite onboarding of a WABA; both the current and the deprecated field are asked for. */
  async getWabaOnboardingStatus(wabaId: string): Promise<WabaOnboardingStatus> {
    const answer = await this.request("GET", `${this.base}/${seg(wabaId)}?fields=${STATUS_FIELDS}`);
    const onboardingStatus = stringOrNull(answer.marketing_messages_onboarding_status);
    const legacyStatus = stringOrNull(answer.marketing_messages_lite_api_status);
    return {
      onboardingStatus,
      legacyStatus,
      onboarded: onboardingStatus === "ONBOARDED" || legacyStatus === "ONBOARDED",
    };
  }

  /** The template with exactly this name and language, or null (Graph's name filter is looser). */
  async findTemplate(wabaId: string, name: string, language: string): Promise<MetaTemplate | null> {
    const url = `${this.base}/${seg(wabaId)}/message_templates?name=${encodeURIComponent(name)}&fields=${TEMPLATE_FIELDS}&limit=${PAGE_SIZE}`;
    for await (const page of this.pages(url, FIND_MAX_PAGES)) {
      for (const raw of page) {
        const t = toTemplate(raw);
        if (t && t.name === name && t.language === language) return t;
      }
    }
    return null;
  }

  /** All templates of a WABA (bounded by `maxPages`), optionally filtered by status and category. */
  async listTemplates(wabaId: string, opts: ListTemplatesOptions = {}): Promise<MetaTemplate[]> {
    let url = `${this.base}/${seg(wabaId)}/message_templates?fields=${TEMPLATE_FIELDS}&limit=${PAGE_SIZE}`;
    if (opts.status) url += `&status=${encodeURIComponent(opts.status)}`;
    if (opts.category) url += `&category=${encodeURIComponent(opts.category)}`;
    const out: MetaTemplate[] = [];
    for await (const page of this.pages(url, opts.maxPages ?? LIST_MAX_PAGES)) {
      for (const raw of page) {
        const t = toTemplate(raw);
        if (!t) continue;
        if (opts.status && t.status !== opts.status) continue;
        if (opts.category && t.category !== opts.category) continue;
        out.push(t);
      }
    }
    return out;
  }

  /** Graph pages: follows `paging.next`, at most `maxPages`, never the same page twice. */
  private async *pages(firstUrl: string, maxPages: number): AsyncGenerator<unknown[]> {
    const seen = new Set<string>();
    let url: string | undefined = firstUrl;
    while (url && seen.size < maxPages && !seen.has(url)) {
      seen.add(url);
      const answer = await this.request("GET", url);
      if (!Array.isArray(answer.data)) throw badResponse(`GET ${pathOf(url)}`, "no data array");
      yield answer.data;
      const paging = answer.paging as { next?: unknown } | undefined;
      url = typeof paging?.next === "string" ? this.sameOrigin(paging.next) : undefined;
    }
  }

  /**
   * `paging.next` as a URL on our own base: Meta writes graph.facebook.com even when the gateway
   * talks to it through another host, and the bearer token must never go anywhere else.
   */
  private sameOrigin(next: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(next, this.base);
    } catch {
      return undefined;
    }
    return parsed.origin === this.origin ? parsed.href : `${this.origin}${parsed.pathname}${parsed.search}`;
  }

  /** One bounded call; answers the parsed JSON object of a 2xx, throws otherwise. */
  private async request(
    method: "GET" | "POST",
    url: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    const label = `${method} ${pathOf(url)}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.accessToken}`,
      Accept: "application/json",
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Raced against both the fetch and the body read: a transport that ignores the signal (or a
    // body that never ends) must not hold a send past the limit.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new MetaUnreachableError("timeout", label, { outcomeUnknown: true }));
        controller.abort();
      }, this.timeoutMs);
    });
    timeout.catch(() => {});
    try {
      const req = new Request(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        // A redirect would replay the call (and the token) somewhere else; Graph never redirects.
        redirect: "manual",
      });
      let res: Response;
      let text: string;
      try {
        res = await Promise.race([this.transport(req), timeout]);
        text = await Promise.race([res.text(), timeout]);
      } catch (err) {
        throw this.unreachable(err, label, controller.signal.aborted);
      }
      return this.interpret(res.status, text, label);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private unreachable(err: unknown, label: string, timedOut: boolean): MetaUnreachableError {
    if (err instanceof MetaUnreachableError) return err;
    if (timedOut) return new MetaUnreachableError("timeout", label, { outcomeUnknown: true, cause: err });
    const detail = redact(err instanceof Error ? err.message : String(err), this.accessToken);
    return new MetaUnreachableError("network", label, { outcomeUnknown: !NOT_SENT.test(detail), detail });
  }

  private interpret(status: number, text: string, label: string): Record<string, unknown> {
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const error = isObject(json) && isObject(json.error) ? (json.error as GraphErrorBody) : undefined;
    if (status >= 200 && status < 300 && !error) {
      if (!isObject(json)) throw badResponse(label, `HTTP ${status} without a JSON object`, status);
      return json;
    }
    throw new MetaApiError({
      httpStatus: status,
      request: label,
      code: numberOrUndefined(error?.code),
      subcode: numberOrUndefined(error?.error_subcode),
      type: stringOrUndefined(error?.type),
      fbtraceId: stringOrUndefined(error?.fbtrace_id),
      details: redactOptional(stringOrUndefined(error?.error_data?.details), this.accessToken),
      metaMessage: redactOptional(stringOrUndefined(error?.message), this.accessToken),
    });
  }
}

function toTemplate(raw: unknown): MetaTemplate | null {
  if (!isObject(raw) || typeof raw.name !== "string" || typeof raw.language !== "string") return null;
  const components = Array.isArray(raw.components) ? raw.components : [];
  const paramNames = templateParamNames(components);
  return {
    id: typeof raw.id === "string" ? raw.id : String(raw.id ?? ""),
    name: raw.name,
    language: raw.language,
    status: typeof raw.status === "string" ? raw.status : "",
    category: typeof raw.category === "string" ? raw.category : "",
    components,
    paramCount: paramNames.length,
    paramNames,
  };
}

function badResponse(label: string, detail: string, httpStatus?: number): MetaUnreachableError {
  // Meta (or something in between) answered: a send may well have been accepted.
  return new MetaUnreachableError("bad_response", label, { outcomeUnknown: true, detail, httpStatus });
}

/** Path only: query strings hold template names, and error messages should stay short. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "?";
  }
}

function seg(id: string): string {
  return encodeURIComponent(id);
}

function first(list: unknown): Record<string, unknown> | undefined {
  return Array.isArray(list) && isObject(list[0]) ? list[0] : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function numberOrUndefined(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function redactOptional(text: string | undefined, secret: string): string | undefined {
  return text === undefined ? undefined : redact(text, secret);
}
