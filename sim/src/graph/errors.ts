// Meta's error envelope and the catalogue of codes the simulator can answer with. Gateways must build
// on `error.code`; HTTP statuses and texts here follow what Meta sends in practice.
import { fbtraceId } from "../ids";

export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product: "whatsapp"; details: string };
    fbtrace_id: string;
  };
}

/** What a DO or handler hands back to the Worker: the HTTP answer plus optional delay / drop. */
export interface GraphOutcome {
  status: number;
  body: unknown;
  /** Sleep this long before answering (artificial latency, timeout faults). */
  delayMs?: number;
  /** After the delay, break the connection instead of answering (timeout fault with drop). */
  drop?: boolean;
}

interface CatalogueEntry {
  status: number;
  message: string;
  subcode?: number;
  /** WhatsApp errors carry error_data.details; plain Graph errors (190, 100 on objects) do not. */
  whatsapp?: boolean;
}

export const CATALOGUE: Record<number, CatalogueEntry> = {
  1: { status: 500, message: "An unknown error occurred" },
  2: { status: 500, message: "Service temporarily unavailable" },
  4: { status: 400, message: "(#4) Application request limit reached" },
  100: { status: 400, message: "(#100) Invalid parameter", whatsapp: true },
  190: { status: 401, message: "Invalid OAuth access token - Cannot parse access token" },
  80007: {
    status: 400,
    message:
      "(#80007) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.",
  },
  130429: { status: 400, message: "(#130429) Rate limit hit", subcode: 2494055, whatsapp: true },
  131000: { status: 500, message: "(#131000) Something went wrong", whatsapp: true },
  131026: { status: 400, message: "(#131026) Message undeliverable", whatsapp: true },
  131049: {
    status: 400,
    message: "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
    whatsapp: true,
  },
  131050: {
    status: 400,
    message:
      "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business",
    whatsapp: true,
  },
  131055: {
    status: 400,
    message: "(#131055) Method not allowed. You must accept the Marketing Messages Lite API terms",
    whatsapp: true,
  },
  131056: {
    status: 400,
    message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    whatsapp: true,
  },
  132000: {
    status: 400,
    message: "(#132000) Number of parameters does not match the expected number of params",
    whatsapp: true,
  },
  132001: {
    status: 400,
    message: "(#132001) Template name does not exist in the translation",
    whatsapp: true,
  },
  132015: { status: 400, message: "(#132015) Template is Paused", whatsapp: true },
  132016: { status: 400, message: "(#132016) Template is Disabled", whatsapp: true },
  133010: { status: 400, message: "(#133010) Account not registered", whatsapp: true },
  134100: {
    status: 400,
    message: "(#134100) Only marketing template messages are supported by the Marketing Messages Lite API",
    whatsapp: true,
  },
  134101: {
    status: 400,
    message: "(#134101) Template is still being synced with the ad account. Try again later",
    whatsapp: true,
  },
  134102: {
    status: 400,
    message: "(#134102) Template is not available for the Marketing Messages Lite API",
    whatsapp: true,
  },
};

export interface ErrorOptions {
  status?: number;
  message?: string;
  details?: string;
  type?: string;
  subcode?: number;
  /** Leave out error_data even for WhatsApp codes (Graph-level errors such as unknown objects). */
  plain?: boolean;
}

/** Builds Meta's error answer for `code`; unknown codes get a generic 400 WhatsApp error. */
export function graphError(code: number, opts: ErrorOptions = {}): GraphOutcome {
  const entry = CATALOGUE[code] ?? { status: 400, message: `(#${code}) Error`, whatsapp: true };
  const message = opts.message ?? entry.message;
  const subcode = opts.subcode ?? entry.subcode;
  const withData = !opts.plain && (entry.whatsapp || opts.details !== undefined);
  // Key order as Meta sends it: fbtrace_id last.
  const error: GraphErrorBody["error"] = {
    message,
    type: opts.type ?? "OAuthException",
    code,
    ...(withData
      ? {
          error_data: {
            messaging_product: "whatsapp" as const,
            details: opts.details ?? message.replace(/^\(#\d+\) /, ""),
          },
        }
      : {}),
    ...(subcode !== undefined ? { error_subcode: subcode } : {}),
    fbtrace_id: fbtraceId(),
  };
  return { status: opts.status ?? entry.status, body: { error } };
}

/** Title Meta puts in failed-status webhooks for a code (the message without its "(#code) " prefix). */
export function errorTitle(code: number): string {
  return (CATALOGUE[code]?.message ?? `Error ${code}`).replace(/^\(#\d+\) /, "");
}

/** Graph's answer for an id that is not a node (or not one this edge applies to). */
export function unknownObject(method: "get" | "post", id: string): GraphOutcome {
  return graphError(100, {
    type: "GraphMethodException",
    subcode: 33,
    plain: true,
    message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
  });
}

export function invalidParam(details: string): GraphOutcome {
  return graphError(100, { details });
}
