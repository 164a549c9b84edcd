import { errors } from "../lib/errors";

/**
 * The Active Campaign API command envelope (api.md "Active Campaign API command envelope"), as
 * pure functions: what is a command at all, which command it is, and the shape of the answer.
 * Nothing here touches a binding or Hono.
 */

export const POSTMASTER = "postmaster@activecampaign.msging.net";

export const MEDIA_TYPES = {
  fullCampaign: "application/vnd.iris.activecampaign.full-campaign+json",
  campaign: "application/vnd.iris.activecampaign.campaign+json",
  summary: "application/vnd.iris.activecampaign.summary+json",
  report: "application/vnd.iris.activecampaign.report+json",
  /** Lime's collection type, what the platform answers for lists. */
  collection: "application/vnd.lime.collection+json",
} as const;

/** `reason.code` of a failure (api.md "Precise rules: Commands"). */
export const REASON = { general: 1, invalidResource: 11, notFound: 67 } as const;

/** Members a Lime command may carry; anything else is refused (as strict as /v1's strict objects). */
const ENVELOPE_KEYS = new Set(["id", "from", "to", "pp", "method", "uri", "type", "resource", "metadata"]);

/** The envelope id doubles as the idempotency key of a `set` (stored with a prefix, within 255). */
const MAX_ID_LENGTH = 200;

export interface Command {
  /** As sent (string or number), echoed in the answer; undefined when the caller gave none. */
  id: string | number | undefined;
  /** Lower case: integrations write "set" and "SET" (skepsdigital/LimpezaDeBase, C#). */
  method: string;
  uri: string;
  to: unknown;
  type: unknown;
  resource: unknown;
  /** The whole envelope as parsed: the idempotency fingerprint of a `set`. */
  raw: Record<string, unknown>;
}

/** A command that is understood as one but cannot be carried out: answered HTTP 200, `failure`. */
export class CommandFailure extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
  ) {
    super(description);
    this.name = "CommandFailure";
  }
}

/**
 * "Not a command" = not a JSON object with string `method` and `uri`: a 400 problem, since there is
 * nothing to answer an envelope to. Everything else is a command, possibly a failing one.
 */
export function readCommand(body: unknown): Command {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw errors.invalidRequest(
      [{ path: "", message: "Expected a JSON object" }],
      "The body is not a command: send a JSON object with string method and uri",
    );
  }
  const raw = body as Record<string, unknown>;
  const problems = [];
  if (typeof raw.method !== "string") problems.push({ path: "method", message: "Expected a string" });
  if (typeof raw.uri !== "string") problems.push({ path: "uri", message: "Expected a string" });
  if (problems.length > 0) {
    throw errors.invalidRequest(problems, "The body is not a command: method and uri must be strings");
  }
  const id = raw.id;
  return {
    id: typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : undefined,
    method: (raw.method as string).trim().toLowerCase(),
    uri: (raw.uri as string).trim(),
    to: raw.to,
    type: raw.type,
    resource: raw.resource,
    raw,
  };
}

/** Envelope members every command must get right before its uri is looked at. */
export function checkEnvelope(cmd: Command): void {
  const unknown = Object.keys(cmd.raw).filter((k) => !ENVELOPE_KEYS.has(k));
  if (unknown.length > 0) {
    throw new CommandFailure(
      REASON.general,
      `Unknown envelope member(s): ${unknown.join(", ")} (a command has id, to, method, uri, type, resource, metadata)`,
    );
  }
  const id = cmd.raw.id;
  if (id !== undefined && id !== null && cmd.id === undefined) {
    throw new CommandFailure(REASON.general, "id must be a string (a UUID) or a number");
  }
  if (cmd.id !== undefined && (String(cmd.id).length === 0 || String(cmd.id).length > MAX_ID_LENGTH)) {
    throw new CommandFailure(REASON.general, `id must be 1 to ${MAX_ID_LENGTH} characters`);
  }
  if (cmd.to !== undefined && cmd.to !== null) {
    if (typeof cmd.to !== "string" || cmd.to.trim().toLowerCase() !== POSTMASTER) {
      throw new CommandFailure(
        REASON.general,
        `This endpoint serves ${POSTMASTER} only; "to" was ${JSON.stringify(cmd.to)}`,
      );
    }
  }
}

export type Route =
  | { kind: "full_campaign" }
  | { kind: "campaigns" }
  | { kind: "campaign"; id: string }
  | { kind: "summaries"; id: string }
  | { kind: "reports"; id: string };

const SUPPORTED: Record<Route["kind"], string> = {
  full_campaign: "set",
  campaigns: "get",
  campaign: "get",
  summaries: "get",
  reports: "get",
};

export interface ParsedUri {
  route: Route;
  /** Query members with percent-decoded names: the Blip SDK encodes `$skip` as `%24skip`. */
  query: URLSearchParams;
}

/** The command's uri as one of the five commands, or a failure (code 1) naming the unknown one. */
export function parseUri(uri: string): ParsedUri {
  const q = uri.indexOf("?");
  const rawPath = q < 0 ? uri : uri.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : uri.slice(q + 1));
  let segments: string[];
  try {
    segments = rawPath
      .split("/")
      .filter((s) => s.length > 0)
      .map((s) => decodeURIComponent(s));
  } catch {
    throw unknownUri(uri);
  }
  const [first, second, third, ...rest] = segments.map((s, i) => (i === 1 ? s : s.toLowerCase()));
  if (!rawPath.startsWith("/") || rest.length > 0) throw unknownUri(uri);
  if (first === "campaign" && second?.toLowerCase() === "full" && third === undefined) {
    return { route: { kind: "full_campaign" }, query };
  }
  if (first !== "campaigns") throw unknownUri(uri);
  if (second === undefined) return { route: { kind: "campaigns" }, query };
  // `/campaigns/summaries` (the platform's summaries of every campaign) is not served here.
  if (second.toLowerCase() === "summaries" && third === undefined) throw unknownUri(uri);
  if (third === undefined) return { route: { kind: "campaign", id: second }, query };
  if (third === "summaries") return { route: { kind: "summaries", id: second }, query };
  if (third === "reports") return { route: { kind: "reports", id: second }, query };
  throw unknownUri(uri);
}

export function checkMethod(method: string, route: Route, uri: string): void {
  const supported = SUPPORTED[route.kind];
  if (method !== supported) {
    throw new CommandFailure(
      REASON.general,
      `Method ${JSON.stringify(method)} is not supported on ${uri.split("?")[0]} (supported: ${supported})`,
    );
  }
}

function unknownUri(uri: string): CommandFailure {
  return new CommandFailure(
    REASON.general,
    `Unknown uri ${JSON.stringify(uri)}: supported are set /campaign/full, get /campaigns, ` +
      "get /campaigns/{id}, get /campaigns/{id}/summaries and get /campaigns/{id}/reports",
  );
}

/** `$skip` / `$take` of a list (OData style, as the platform takes them; `$take` at most 100). */
export function paging(query: URLSearchParams, defaultTake = 20): { skip: number; take: number } {
  const read = (name: string, fallback: number, min: number, max: number) => {
    const value = query.get(name);
    if (value === null || value.trim() === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new CommandFailure(REASON.general, `${name} must be an integer from ${min} to ${max}`);
    }
    return n;
  };
  return { skip: read("$skip", 0, 0, 1_000_000), take: read("$take", defaultTake, 1, 100) };
}

export interface CommandAnswer {
  id: string | number;
  from: typeof POSTMASTER;
  to: string;
  method: string;
  status: "success" | "failure";
  type?: string;
  resource?: unknown;
  reason?: { code: number; description: string };
  metadata: { "#command.uri": string };
}

export function success(cmd: Command, caller: string, type: string, resource: unknown): CommandAnswer {
  return { ...head(cmd, caller), status: "success", type, resource };
}

export function failure(cmd: Command, caller: string, code: number, description: string): CommandAnswer {
  return { ...head(cmd, caller), status: "failure", reason: { code, description } };
}

function head(cmd: Command, caller: string) {
  return {
    // A command without an id still gets one, so a client can correlate the answer.
    id: cmd.id ?? crypto.randomUUID(),
    from: POSTMASTER,
    to: caller,
    method: cmd.method,
    // The platform echoes the uri here; clients log it.
    metadata: { "#command.uri": cmd.uri },
  } as const;
}
