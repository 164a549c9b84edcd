/**
 * Campaigns the webhook and report sections work on, made the way a client makes them: a streamed
 * CSV upload (`POST /v1/campaigns`, text/csv), sent by the gateway to the simulator, then read back
 * through `GET /v1/campaigns/{id}/report.csv`. Nothing is written into D1 behind the gateway's back.
 */

import { readFileSync } from "node:fs";
import http from "node:http";
import { callJson, expectJson, postStream } from "./http";
import type { Kit, SectionEnv } from "./kit";
import { fmt } from "./kit";
import { sleep } from "./servers";

/** Recipient i of a section's campaign (valid Brazilian mobile numbers, E.164). */
export const phoneOf = (i: number) => `+5511${910_000_000 + i}`;

/** CSV of `n` recipients with the template's two parameters, generated in slices of 2000 rows. */
export function* csvRows(n: number): Generator<string> {
  yield "phone,name,until\r\n";
  const per = 2000;
  for (let i = 0; i < n; i += per) {
    let s = "";
    for (let k = i; k < Math.min(n, i + per); k++)
      s += `${phoneOf(k)},Customer Name ${String(k).padStart(7, "0")},31/12/2026\r\n`;
    yield s;
  }
}

export interface SentCampaign {
  id: string;
  key: string;
  wabaId: string;
  phoneNumberId: string;
  n: number;
  /** From the upload's first byte to the campaign's `completed` (polled every 2 s), s. */
  sendS: number;
  uploadS: number;
  status: string;
  counts: Record<string, number>;
  /** The campaign's `errors` (failed recipients by code). */
  errors: unknown[];
}

/**
 * A fresh number and bot (cap `mps`), a CSV campaign of `n` recipients, and the wait until the
 * gateway closed it. Progress is printed every 15 s; the wait gives up when nothing moved for 2 min.
 */
export async function sendCsvCampaign(
  e: SectionEnv,
  kit: Kit,
  label: string,
  n: number,
  mps: number,
): Promise<SentCampaign> {
  await kit.simSettled(e.sim);
  const num = await kit.simNumber(e.sim, label);
  const key = await kit.createBot(e.gw, label, num, mps);
  const auth = { authorization: `Key ${key}` };
  const q = new URLSearchParams({
    name: `bench ${label}`,
    template: kit.template.name,
    language: kit.template.language,
  });
  const t0 = Date.now();
  const up = await postStream(
    `${e.gw.url}/v1/campaigns?${q}`,
    { "content-type": "text/csv", ...auth },
    csvRows(n),
    15 * 60_000,
  );
  if (up.status !== 202) throw new Error(`${label}: upload HTTP ${up.status} ${up.text.slice(0, 300)}`);
  if (up.json?.total !== n) throw new Error(`${label}: campaign total ${up.json?.total}, expected ${n}`);
  const id = up.json.id as string;
  let detail: any = up.json;
  let done = 0;
  let lastMoveAt = Date.now();
  let lastPrint = Date.now();
  for (;;) {
    await sleep(2000);
    detail = await kit.retrying(() =>
      expectJson("GET campaign", `${e.gw.url}/v1/campaigns/${id}`, "GET", undefined, auth, [200]),
    );
    const c = detail.counts as Record<string, number>;
    const now = n - (c.queued ?? 0);
    if (now !== done) {
      done = now;
      lastMoveAt = Date.now();
    }
    if (detail.status !== "sending") break;
    if (Date.now() - lastPrint > 15_000) {
      lastPrint = Date.now();
      kit.say(
        `    … ${label}: ${done}/${n} sent or settled (${fmt(done / ((Date.now() - t0) / 1000), 0)}/s), ${JSON.stringify(c)}`,
      );
    }
    if (Date.now() - lastMoveAt > 120_000) {
      kit.say(`    ! ${label}: nothing moved for 2 min, stopped waiting at ${done}/${n}`);
      break;
    }
  }
  return {
    id,
    key,
    wabaId: num.wabaId,
    phoneNumberId: num.phoneNumberId,
    n,
    sendS: (Date.now() - t0) / 1000,
    uploadS: up.ms / 1000,
    status: detail.status,
    counts: detail.counts ?? {},
    errors: detail.errors ?? [],
  };
}

export interface StreamedGet {
  status: number;
  bytes: number;
  /** Lines ended by CRLF, the header included. */
  lines: number;
  /** Time to the answer's headers and to its last byte, ms from the request. */
  headersMs: number;
  ms: number;
  /** The body, when asked to keep it. */
  text: string | null;
}

/**
 * A GET read to its end as it streams (the client never holds it back unless `pause`), counting
 * bytes and CRLF line ends; the body is kept only when `keep` (a report of a few thousand rows).
 */
export function streamGet(
  url: string,
  headers: Record<string, string>,
  keep: boolean,
  timeoutMs = 15 * 60_000,
  /** Pause the reading for `ms` after every `everyBytes` read (none = read as fast as it comes). */
  pause?: { ms: number; everyBytes: number },
): Promise<StreamedGet> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // A connection of its own (`agent: false`): nothing an earlier request left on a kept-alive
    // connection can hold it up, and an export is one long request, so it costs nothing.
    const req = http.get(url, { headers, timeout: timeoutMs, agent: false }, (res) => {
      const headersMs = performance.now() - started;
      let bytes = 0;
      let lines = 0;
      let prevCr = false;
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => {
        bytes += d.length;
        // CR and LF may fall on either side of a chunk boundary.
        for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) {
          if (i > 0 ? d[i - 1] === 13 : prevCr) lines++;
        }
        prevCr = d[d.length - 1] === 13;
        if (keep) parts.push(d);
        if (
          pause &&
          Math.floor(bytes / pause.everyBytes) > Math.floor((bytes - d.length) / pause.everyBytes)
        ) {
          res.pause();
          setTimeout(() => res.resume(), pause.ms);
        }
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          lines,
          headersMs,
          ms: performance.now() - started,
          text: keep ? Buffer.concat(parts).toString("utf8") : null,
        }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/**
 * The messages the simulator accepted from a number (wamid, recipient digits), oldest first, paged
 * with `since` and de-duplicated by wamid. Meta knows its wamids: reading them here, rather than
 * from the gateway's report.csv, keeps large exports away from the gateway before the measures
 * (one leaves wrangler's inspector proxy busy for minutes, see README "Caveats").
 */
export async function simMessages(
  kit: Kit,
  e: SectionEnv,
  phoneNumberId: string,
): Promise<{ wamid: string; to: string }[]> {
  return (await simAccepted(e.sim.url, phoneNumberId, kit.retrying)).map(({ wamid, to }) => ({
    wamid,
    to: to.replace(/^\+/, ""),
  }));
}

/**
 * Every send the simulator accepted for a number, oldest first: paged with `since` and
 * de-duplicated by wamid (pages overlap on equal timestamps). `to` as Meta received it.
 */
export async function simAccepted(
  simUrl: string,
  phoneNumberId: string,
  retrying: Kit["retrying"],
): Promise<{ wamid: string; to: string; t: number }[]> {
  const out: { wamid: string; to: string; t: number }[] = [];
  const seen = new Set<string>();
  let since = 0;
  for (;;) {
    const page = await retrying(() =>
      expectJson(
        "GET /_sim/messages",
        `${simUrl}/_sim/messages?phoneNumberId=${phoneNumberId}&since=${since}&limit=5000`,
        "GET",
        undefined,
        {},
        [200],
      ),
    );
    let fresh = 0;
    for (const m of page.messages as { wamid: string; at: string; to: string }[]) {
      if (seen.has(m.wamid)) continue;
      seen.add(m.wamid);
      fresh++;
      const t = Date.parse(m.at);
      out.push({ wamid: m.wamid, to: m.to, t });
      since = Math.max(since, t);
    }
    if (page.count < 5000 || fresh === 0) break;
  }
  return out.sort((x, y) => x.t - y.t);
}

/**
 * The wamids to post statuses for: the simulator's, when the gateway recorded as many accepted
 * sends (then they are the same messages); otherwise the gateway's own report (a send that timed
 * out at the gateway may still have been accepted by the simulator, and its wamid is unknown).
 */
export async function sentWamids(
  kit: Kit,
  e: SectionEnv,
  camp: SentCampaign,
): Promise<{ targets: { wamid: string; to: string }[]; from: string }> {
  const sim = await simMessages(kit, e, camp.phoneNumberId);
  if (sim.length === (camp.counts.accepted ?? -1)) return { targets: sim, from: "the simulator's list" };
  const report = await streamGet(
    `${e.gw.url}/v1/campaigns/${camp.id}/report.csv`,
    { authorization: `Key ${camp.key}` },
    true,
  );
  if (report.status !== 200 || report.text === null) throw new Error(`report.csv: HTTP ${report.status}`);
  const targets = reportRows(report.text)
    .filter((r) => r.status === "accepted" && r.wamid)
    .map((r) => ({ wamid: r.wamid as string, to: (r.phone as string).replace(/^\+/, "") }));
  return {
    targets,
    from: `the gateway's report.csv (the simulator accepted ${sim.length}, the gateway counts ${camp.counts.accepted ?? 0})`,
  };
}

/** RFC 4180 cells of one line (quotes doubled inside quoted cells; no CRLF inside cells here). */
export function csvCells(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let cell = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          cell += line.slice(i);
          i = line.length;
          break;
        }
        cell += line.slice(i, q);
        if (line[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(cell);
    } else {
      const c = line.indexOf(",", i);
      out.push(line.slice(i, c < 0 ? line.length : c));
      i = c < 0 ? line.length : c;
    }
    if (line[i] !== ",") return out;
    i++;
  }
}

/** The report's rows as objects keyed by its header. */
export function reportRows(text: string): Record<string, string>[] {
  const lines = text.split("\r\n").filter((l) => l.length > 0);
  const header = csvCells(lines[0] ?? "");
  return lines.slice(1).map((l) => {
    const cells = csvCells(l);
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
  });
}

/** The campaign as GET /v1/campaigns/{id} answers it. */
export async function campaignDetail(e: SectionEnv, c: { id: string; key: string }, timeoutMs = 30_000) {
  const a = await callJson(
    `${e.gw.url}/v1/campaigns/${c.id}`,
    "GET",
    undefined,
    { authorization: `Key ${c.key}` },
    timeoutMs,
  );
  if (a.status !== 200) throw new Error(`GET campaign: HTTP ${a.status} ${a.text.slice(0, 200)}`);
  return a.json;
}

/** The workerd that runs the Worker (its entry socket has no fixed port), not wrangler's proxy. */
export function isRuntimeProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("entry=127.0.0.1:0");
  } catch {
    return false;
  }
}

/** `QUEUE <name> acked/size (N ms)` lines wrangler logged after `offset`: [acked, size, ms]. */
export function queueBatches(logs: string, offset: number, queue: string): [number, number, number][] {
  const out: [number, number, number][] = [];
  const re = new RegExp(`QUEUE ${queue} (\\d+)/(\\d+) \\((\\d+)ms\\)`, "g");
  for (const m of logs.slice(offset).matchAll(re)) out.push([Number(m[1]), Number(m[2]), Number(m[3])]);
  return out;
}

/** "min / median / max" of a list. */
export function spread(xs: number[]): string {
  if (xs.length === 0) return "—";
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]} / ${s[Math.floor(s.length / 2)]} / ${s[s.length - 1]}`;
}
