/**
 * The one error type of the gateway. Every expected failure is an AppError with a machine-readable
 * `code`; the single onError handler turns it into an RFC 9457 problem+json body. Anything else is
 * a 500 whose body never carries internals.
 */
export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extra members of the problem body (e.g. `wabaIds`). */
  extra?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  readonly extra?: Record<string, unknown>;

  constructor(status: number, code: string, title: string, opts: AppErrorOptions = {}) {
    super(`${code}: ${title}`);
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = opts.detail;
    this.errors = opts.errors;
    this.headers = opts.headers;
    this.extra = opts.extra;
  }
}

export interface ProblemBody {
  type: "about:blank";
  title: string;
  status: number;
  code: string;
  detail?: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export function problemBody(err: AppError): ProblemBody {
  return {
    ...err.extra,
    type: "about:blank",
    title: err.title,
    status: err.status,
    code: err.code,
    ...(err.detail !== undefined ? { detail: err.detail } : {}),
    ...(err.errors !== undefined ? { errors: err.errors } : {}),
  };
}

export function problemResponse(err: AppError): Response {
  const headers = new Headers(err.headers);
  headers.set("Content-Type", "application/problem+json");
  return new Response(JSON.stringify(problemBody(err)), { status: err.status, headers });
}

/** Shorthands for the errors every route shares. */
export const errors = {
  invalidJson: (detail = "The request body is not valid JSON") =>
    new AppError(400, "invalid_json", "Malformed JSON", { detail }),
  invalidRequest: (errors: FieldError[], detail = "The request does not match the schema") =>
    new AppError(400, "invalid_request", "Invalid request", { detail, errors }),
  unauthorized: () =>
    new AppError(401, "unauthorized", "Unauthorized", {
      detail: "A valid API key is required",
      headers: { "WWW-Authenticate": 'Key realm="mmlite-gateway"' },
    }),
  notFound: (what = "Resource") => new AppError(404, "not_found", `${what} not found`),
  payloadTooLarge: (limit: number) =>
    new AppError(413, "payload_too_large", "Payload too large", {
      detail: `The body exceeds the limit of ${limit} bytes`,
    }),
  metaUnavailable: (detail: string, retryAfterSeconds = 30) =>
    new AppError(503, "meta_unavailable", "Meta is unavailable", {
      detail,
      headers: { "Retry-After": String(retryAfterSeconds) },
    }),
};
