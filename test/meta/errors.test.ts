import { describe, expect, it } from "vitest";
import {
  backoffMs,
  classifyMetaError,
  isRetryable,
  MetaApiError,
  type MetaErrorClass,
  type RetryableMetaError,
} from "../../src/meta/errors";

/** A classification without its `code` (distributed over the union). */
type Expected = MetaErrorClass extends infer T ? (T extends unknown ? Omit<T, "code"> : never) : never;

const flags = { optOut: false, pauseNumber: false, operatorAlert: false, templateError: false };

// meta-platform.md, "Errors that matter to a sender", row by row (HTTP 400 unless said otherwise).
const table: Array<[code: number, expected: Expected]> = [
  [130429, { kind: "throttled", scope: "throughput" }],
  [131056, { kind: "throttled", scope: "pair" }],
  [4, { kind: "throttled", scope: "graph" }],
  [80007, { kind: "throttled", scope: "graph" }],
  [1, { kind: "transient" }],
  [2, { kind: "transient" }],
  [131000, { kind: "transient" }],
  [131016, { kind: "transient" }],
  [131049, { kind: "permanent", ...flags }],
  [131050, { kind: "permanent", ...flags, optOut: true }],
  [131026, { kind: "permanent", ...flags }],
  [131047, { kind: "permanent", ...flags }],
  [131048, { kind: "permanent", ...flags, pauseNumber: true }],
  ...[100, 132000, 132001, 132005, 132007, 132012, 132018, 132015, 132016].map(
    (code) => [code, { kind: "permanent", ...flags, templateError: true }] as [number, Expected],
  ),
  ...[190, 0, 10, 200, 250, 299, 133010].map(
    (code) => [code, { kind: "permanent", ...flags, operatorAlert: true }] as [number, Expected],
  ),
  [131055, { kind: "fallback_cloud_api" }],
  [134100, { kind: "fallback_cloud_api" }],
  [134102, { kind: "fallback_cloud_api" }],
  [134101, { kind: "retry_later" }],
  [131063, { kind: "permanent", ...flags }],
];

describe("classifyMetaError", () => {
  it.each(table)("code %i → %o", (code, expected) => {
    expect(classifyMetaError(code, 400)).toEqual({ ...expected, code });
  });

  it("decides on the code, whatever the HTTP status", () => {
    expect(classifyMetaError(130429, 429)).toEqual({ kind: "throttled", code: 130429, scope: "throughput" });
    expect(classifyMetaError(131050, 500)).toMatchObject({ kind: "permanent", optOut: true });
    expect(classifyMetaError(131000, 400)).toEqual({ kind: "transient", code: 131000 });
    expect(classifyMetaError(134101, 403)).toEqual({ kind: "retry_later", code: 134101 });
  });

  it("classifies the same code the same way without an HTTP status (webhook errors)", () => {
    for (const [code, expected] of table) expect(classifyMetaError(code)).toEqual({ ...expected, code });
  });

  it.each([500, 502, 503, 504, 599])("HTTP %i without a code is transient", (status) => {
    expect(classifyMetaError(undefined, status)).toEqual({ kind: "transient", code: undefined });
  });

  it("an unknown code falls back on the HTTP status", () => {
    expect(classifyMetaError(987654, 503)).toEqual({ kind: "transient", code: 987654 });
    expect(classifyMetaError(987654, 400)).toEqual({ kind: "permanent", code: 987654, ...flags });
    expect(classifyMetaError(undefined, 404)).toEqual({ kind: "permanent", code: undefined, ...flags });
    expect(classifyMetaError(987654)).toEqual({ kind: "permanent", code: 987654, ...flags });
  });

  it("HTTP 429 without a known code is throttling", () => {
    expect(classifyMetaError(undefined, 429)).toEqual({ kind: "throttled", code: undefined, scope: "http" });
  });

  it("an answer that is not Graph's (a redirect) needs an operator", () => {
    expect(classifyMetaError(undefined, 302)).toMatchObject({ kind: "permanent", operatorAlert: true });
  });

  it("only throttled, transient and retry_later are retryable", () => {
    const retryable = table.filter(([code]) => isRetryable(classifyMetaError(code, 400))).map(([c]) => c);
    expect(retryable.sort((a, b) => a - b)).toEqual([1, 2, 4, 80007, 130429, 131000, 131016, 131056, 134101]);
  });
});

describe("backoffMs", () => {
  const pair: RetryableMetaError = { kind: "throttled", code: 131056, scope: "pair" };
  const transient: RetryableMetaError = { kind: "transient", code: undefined };
  const low = () => 0;
  const high = () => 1;

  it("pair rate: 4^n seconds, as Meta advises, capped", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffMs(pair, n))).toEqual([
      1_000, 4_000, 16_000, 64_000, 256_000, 1_024_000, 1_024_000, 1_024_000,
    ]);
  });

  it("transient: exponential with equal jitter, capped at a minute", () => {
    expect(backoffMs(transient, 0, low)).toBe(500);
    expect(backoffMs(transient, 0, high)).toBe(1_000);
    expect(backoffMs(transient, 3, low)).toBe(4_000);
    expect(backoffMs(transient, 3, high)).toBe(8_000);
    expect(backoffMs(transient, 30, high)).toBe(60_000);
    expect(backoffMs(transient, 30, low)).toBe(30_000);
  });

  it("Graph rate limits back off in minutes; template sync in minutes up to 10", () => {
    const graph: RetryableMetaError = { kind: "throttled", code: 4, scope: "graph" };
    expect(backoffMs(graph, 0, high)).toBe(60_000);
    expect(backoffMs(graph, 10, high)).toBe(15 * 60_000);
    const sync: RetryableMetaError = { kind: "retry_later", code: 134101 };
    expect(backoffMs(sync, 0, high)).toBe(2 * 60_000);
    expect(backoffMs(sync, 5, high)).toBe(10 * 60_000);
  });

  it("accepts a bare code", () => {
    expect(backoffMs(131056, 2)).toBe(16_000);
    expect(backoffMs(130429, 0, high)).toBe(1_000);
    // Not retryable by itself: the transient schedule.
    expect(backoffMs(0, 1, high)).toBe(2_000);
  });

  it("tolerates odd attempts", () => {
    expect(backoffMs(transient, -3, high)).toBe(1_000);
    expect(backoffMs(transient, Number.POSITIVE_INFINITY, high)).toBe(60_000);
    expect(backoffMs(pair, 1.7)).toBe(4_000);
  });
});

describe("MetaApiError", () => {
  it("carries Meta's fields and its classification", () => {
    const err = new MetaApiError({
      httpStatus: 400,
      code: 131056,
      subcode: 2494055,
      type: "OAuthException",
      fbtraceId: "AbC",
      details: "Message failed to send because there were too many messages",
      metaMessage: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
      request: "POST /1/messages",
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("MetaApiError");
    expect(err.classification).toEqual({ kind: "throttled", code: 131056, scope: "pair" });
    expect(err.message).toContain("131056");
    expect(err.message).toContain("POST /1/messages");
  });
});
