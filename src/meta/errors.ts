/**
 * What a Meta error means for the sender (meta-platform.md, "Errors that matter to a sender").
 * The decision rests on `error.code`: Meta's message text changes and its HTTP status for the same
 * error varies (throttling comes as 400 or 429). The HTTP status is only used when there is no known
 * code. The same function classifies errors of `failed` status webhooks (no HTTP status there).
 */

/** Which limit Meta says was hit; each recovers on its own time scale. */
export type ThrottleScope =
  | "throughput" // 130429: the phone number's messages per second
  | "pair" // 131056: the same recipient too often
  | "graph" // 4, 80007: Graph calls per app / WABA per hour
  | "http"; // HTTP 429 without a code we know

export type MetaErrorClass =
  | { kind: "throttled"; code: number | undefined; scope: ThrottleScope }
  | { kind: "transient"; code: number | undefined }
  /** MM Lite refused the message: re-send through the Cloud API and forget the WABA's cached status. */
  | { kind: "fallback_cloud_api"; code: number }
  /** MM Lite: the template is still syncing with the ad account (≈10 min). */
  | { kind: "retry_later"; code: number }
  | {
      kind: "permanent";
      code: number | undefined;
      /** 131050: the user stopped marketing messages; remember it, never retry. */
      optOut: boolean;
      /** 131048: spam rate limit on the business number; stop sending on it for a while. */
      pauseNumber: boolean;
      /** Token, permission or registration problem a human must fix. */
      operatorAlert: boolean;
      /** Template missing, paused, disabled, or parameters that do not fit it. */
      templateError: boolean;
    };

export type RetryableMetaError = Extract<MetaErrorClass, { kind: "throttled" | "transient" | "retry_later" }>;

const THROTTLE_SCOPE: ReadonlyMap<number, ThrottleScope> = new Map([
  [130429, "throughput"],
  [131056, "pair"],
  [4, "graph"],
  [80007, "graph"],
]);
const TRANSIENT = new Set([1, 2, 131000, 131016]);
const FALLBACK = new Set([131055, 134100, 134102]);
const RETRY_LATER = new Set([134101]);
const TEMPLATE = new Set([100, 132000, 132001, 132005, 132007, 132012, 132018, 132015, 132016]);
const OPERATOR = new Set([190, 0, 10, 133010]);
/** Known final failures that need no flag. */
const PERMANENT = new Set([131049, 131026, 131047, 131063]);

/** Permanent error flags, all off: a base to spread into. */
const NO_FLAGS = { optOut: false, pauseNumber: false, operatorAlert: false, templateError: false };

export function classifyMetaError(code: number | undefined, httpStatus?: number): MetaErrorClass {
  if (code !== undefined) {
    const scope = THROTTLE_SCOPE.get(code);
    if (scope) return { kind: "throttled", code, scope };
    if (TRANSIENT.has(code)) return { kind: "transient", code };
    if (FALLBACK.has(code)) return { kind: "fallback_cloud_api", code };
    if (RETRY_LATER.has(code)) return { kind: "retry_later", code };
    if (code === 131050) return { kind: "permanent", code, ...NO_FLAGS, optOut: true };
    if (code === 131048) return { kind: "permanent", code, ...NO_FLAGS, pauseNumber: true };
    if (OPERATOR.has(code) || (code >= 200 && code <= 299)) {
      return { kind: "permanent", code, ...NO_FLAGS, operatorAlert: true };
    }
    if (TEMPLATE.has(code)) return { kind: "permanent", code, ...NO_FLAGS, templateError: true };
    if (PERMANENT.has(code)) return { kind: "permanent", code, ...NO_FLAGS };
  }
  // No code, or one we do not know: the HTTP status is all there is.
  if (httpStatus !== undefined && httpStatus >= 500) return { kind: "transient", code };
  // 429 is "too many requests" whatever the code; treating it as final would drop messages.
  if (httpStatus === 429) return { kind: "throttled", code, scope: "http" };
  // A 4xx, or a webhook failure (no status): Meta refused this message for good.
  if (httpStatus === undefined || (httpStatus >= 400 && httpStatus < 500)) {
    return { kind: "permanent", code, ...NO_FLAGS };
  }
  // Anything else (a 3xx: the client never follows redirects) is not Graph answering: the base URL
  // is wrong, and retrying will not fix that.
  return { kind: "permanent", code, ...NO_FLAGS, operatorAlert: true };
}

export function isRetryable(cls: MetaErrorClass): cls is RetryableMetaError {
  return cls.kind === "throttled" || cls.kind === "transient" || cls.kind === "retry_later";
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * Delay before retry number `attempt` (0 for the first retry) of a retryable error.
 * - pair rate (131056): 4^attempt seconds, Meta's own advice (1 s, 4 s, 16 s, … capped at 4^5 s);
 * - throughput / HTTP 429 and transient errors: exponential from 1 s, capped at 1 min;
 * - Graph rate limits (4, 80007) are hourly budgets: exponential from 1 min, capped at 15 min;
 * - template still syncing (134101): from 2 min, capped at 10 min (Meta documents ≈10 min).
 * Exponential delays get "equal jitter" (half fixed, half random) so that messages throttled together
 * do not come back together; `random` is injectable for tests.
 * `error` is a classification or a bare Meta code; a code that is not retryable gets the transient
 * schedule (the caller decided to retry anyway).
 */
export function backoffMs(
  error: RetryableMetaError | number,
  attempt: number,
  random: () => number = Math.random,
): number {
  const cls = typeof error === "number" ? retryableByCode(error) : error;
  const n = Math.min(Math.max(0, Math.floor(attempt)), 20);
  switch (cls.kind) {
    case "throttled":
      if (cls.scope === "pair") return 4 ** Math.min(n, 5) * SECOND;
      if (cls.scope === "graph") return jittered(MINUTE, 15 * MINUTE, n, random);
      return jittered(SECOND, MINUTE, n, random);
    case "transient":
      return jittered(SECOND, MINUTE, n, random);
    case "retry_later":
      return jittered(2 * MINUTE, 10 * MINUTE, n, random);
  }
}

function retryableByCode(code: number): RetryableMetaError {
  const cls = classifyMetaError(code);
  return isRetryable(cls) ? cls : { kind: "transient", code };
}

function jittered(base: number, cap: number, n: number, random: () => number): number {
  const ceiling = Math.min(cap, base * 2 ** n);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface MetaApiErrorInit {
  httpStatus: number;
  code?: number;
  subcode?: number;
  type?: string;
  fbtraceId?: string;
  details?: string;
  metaMessage?: string;
  /** e.g. "POST /106540352242922/marketing_messages" — never a token. */
  request: string;
}

/** Meta answered with an error (any non-2xx, with or without a Graph error body). */
export class MetaApiError extends Error {
  override readonly name = "MetaApiError";
  readonly httpStatus: number;
  readonly code: number | undefined;
  readonly subcode: number | undefined;
  readonly type: string | undefined;
  readonly fbtraceId: string | undefined;
  /** `error_data.details`: Meta's most specific explanation. */
  readonly details: string | undefined;
  readonly metaMessage: string | undefined;
  readonly classification: MetaErrorClass;

  constructor(init: MetaApiErrorInit) {
    const what = init.metaMessage ?? init.details ?? "no error body";
    super(`Meta error ${init.code ?? "without code"} (HTTP ${init.httpStatus}) on ${init.request}: ${what}`);
    this.httpStatus = init.httpStatus;
    this.code = init.code;
    this.subcode = init.subcode;
    this.type = init.type;
    this.fbtraceId = init.fbtraceId;
    this.details = init.details;
    this.metaMessage = init.metaMessage;
    this.classification = classifyMetaError(init.code, init.httpStatus);
  }
}

export type UnreachableReason =
  | "timeout" // no complete answer within the time limit
  | "network" // the transport failed (connection refused / reset, DNS, …)
  | "bad_response"; // a 2xx whose body is not the JSON Meta sends

/** No usable answer from Meta. Always worth retrying; for a send, mind `outcomeUnknown`. */
export class MetaUnreachableError extends Error {
  override readonly name = "MetaUnreachableError";
  readonly reason: UnreachableReason;
  /**
   * The request may have reached Meta and taken effect (a send may have gone out): true unless the
   * transport failed in a way that shows nothing was delivered to Meta (connection refused, DNS).
   */
  readonly outcomeUnknown: boolean;
  readonly httpStatus: number | undefined;

  constructor(
    reason: UnreachableReason,
    request: string,
    opts: { outcomeUnknown: boolean; httpStatus?: number; detail?: string; cause?: unknown },
  ) {
    super(`Meta unreachable (${reason}) on ${request}${opts.detail ? `: ${opts.detail}` : ""}`, {
      cause: opts.cause,
    });
    this.reason = reason;
    this.outcomeUnknown = opts.outcomeUnknown;
    this.httpStatus = opts.httpStatus;
  }
}

/** Removes a secret from text that is about to end up in an error or a log. */
export function redact(text: string, secret: string): string {
  return secret.length > 0 && text.includes(secret) ? text.split(secret).join("[redacted]") : text;
}
