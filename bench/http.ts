/** Small HTTP helpers for the bench (plain JSON calls, a streamed CSV upload, a bare send loop). */
import http from "node:http";

export interface JsonAnswer {
  status: number;
  json: any;
  text: string;
}

export async function callJson(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

export async function expectJson(
  what: string,
  url: string,
  method: string,
  body: unknown,
  headers: Record<string, string>,
  okStatuses: number[],
  timeoutMs = 120_000,
): Promise<any> {
  let a: JsonAnswer;
  try {
    a = await callJson(url, method, body, headers, timeoutMs);
  } catch (err) {
    throw new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!okStatuses.includes(a.status)) throw new Error(`${what}: HTTP ${a.status} ${a.text.slice(0, 500)}`);
  return a.json;
}

export interface StreamedUpload {
  status: number;
  json: any;
  text: string;
  bytes: number;
  /** From the first byte written to the answer's end, ms. */
  ms: number;
}

/**
 * POSTs a body produced chunk by chunk (backpressure respected: nothing is built ahead of the
 * socket), without Content-Length (chunked transfer encoding).
 */
export function postStream(
  url: string,
  headers: Record<string, string>,
  chunks: Iterable<string>,
  timeoutMs: number,
): Promise<StreamedUpload> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const started = performance.now();
    let bytes = 0;
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: "POST",
        headers: { ...headers, "transfer-encoding": "chunked" },
        timeout: timeoutMs,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text, bytes, ms: performance.now() - started });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`upload timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    const it = chunks[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) {
          req.end();
          return;
        }
        const buf = Buffer.from(next.value, "utf8");
        bytes += buf.length;
        if (!req.write(buf)) {
          req.once("drain", pump);
          return;
        }
      }
    };
    pump();
  });
}

export interface BareResult {
  sent: number;
  ok: number;
  failed: Record<string, number>;
  wallMs: number;
  /** Mean request latency as the loop saw it, ms. */
  meanLatencyMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
}

/**
 * The bare loop: `concurrency` workers, each POSTing the next request as soon as its previous one
 * answered, over keep-alive connections (at most one per worker).
 */
export async function bareLoop(
  url: string,
  headers: Record<string, string>,
  bodies: string[],
  concurrency: number,
): Promise<BareResult> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const failed: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  let ok = 0;
  const one = (body: string) =>
    new Promise<number>((resolve) => {
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: "POST",
          agent,
          headers: {
            ...headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
          timeout: 30_000,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", () => resolve(-1));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve(-1));
      req.end(body);
    });
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const t0 = performance.now();
      const status = await one(bodies[i] as string);
      latencies.push(performance.now() - t0);
      if (status === 200) ok++;
      else failed[String(status)] = (failed[String(status)] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return {
    sent: bodies.length,
    ok,
    failed,
    wallMs,
    meanLatencyMs: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    p50LatencyMs: at(0.5),
    p99LatencyMs: at(0.99),
  };
}

export interface PacedResult {
  /** Epoch ms at which each request was handed to the socket. */
  departures: number[];
  ok: number;
  failed: Record<string, number>;
  skippedSlots: number;
}

/**
 * A perfectly paced sender (the control for the gateway's pacing): request k leaves at the k-th
 * free slot of an absolute schedule `intervalMs` apart; a slot more than `toleranceMs` late is
 * skipped, never used late (the gateway's rule), so the departures never bunch. Open loop: it does
 * not wait for answers.
 */
export async function pacedLoop(
  url: string,
  headers: Record<string, string>,
  bodies: string[],
  intervalMs: number,
  toleranceMs = 8,
): Promise<PacedResult> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const failed: Record<string, number> = {};
  const departures: number[] = [];
  let ok = 0;
  let skippedSlots = 0;
  const answers: Promise<void>[] = [];
  const start = Date.now() + 50;
  let slot = 0;
  for (const body of bodies) {
    for (;;) {
      const at = start + slot * intervalMs;
      const now = Date.now();
      if (now - at > toleranceMs) {
        slot++;
        skippedSlots++;
        continue;
      }
      if (at > now) await new Promise((r) => setTimeout(r, at - now));
      if (Date.now() - at > toleranceMs) continue; // The timer itself fired too late.
      break;
    }
    slot++;
    departures.push(Date.now());
    answers.push(
      new Promise<void>((resolve) => {
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            method: "POST",
            agent,
            headers: {
              ...headers,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
            timeout: 30_000,
          },
          (res) => {
            res.resume();
            res.on("end", () => {
              if (res.statusCode === 200) ok++;
              else failed[String(res.statusCode)] = (failed[String(res.statusCode)] ?? 0) + 1;
              resolve();
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => {
          failed["-1"] = (failed["-1"] ?? 0) + 1;
          resolve();
        });
        req.end(body);
      }),
    );
  }
  await Promise.all(answers);
  agent.destroy();
  return { departures, ok, failed, skippedSlots };
}
