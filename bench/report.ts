/**
 * §6 Report export: `GET /v1/campaigns/{id}/report.csv` of a 100,000-recipient campaign, read to
 * its end as it streams, and the gateway isolate's JS heap meanwhile. See bench/README.md
 * ("6. Report export").
 *
 * The campaign is made the way a client makes one and sent for real (CSV upload, the gateway's
 * pipeline, the simulator); then Meta's statuses are posted for it (every message delivered with
 * its pricing, one in three read), so the rows are as wide as a report read after a campaign: wamid,
 * four times, the confirmed route. Nothing is written into D1 behind the gateway's back.
 *
 * The export runs twice: first with nothing attached (the time), then with the inspector attached
 * (heap sampling and a CPU profile, which slow the isolate: its time is printed, it is not the
 * figure).
 */
import http from "node:http";
import {
  campaignDetail,
  csvRows,
  isRuntimeProcess,
  type SentCampaign,
  sendCsvCampaign,
  sentWamids,
  spread,
  streamGet,
} from "./fixtures";
import { callJson, postStream } from "./http";
import { connectRuntimeInspector, inclusiveShares, topFunctions } from "./inspector";
import { fmt, type Kit, mb, type SectionEnv } from "./kit";
import { cpuSecondsOf, memOfAll, workerdPids } from "./procs";
import { sleep } from "./servers";
import { notification, postSigned, type Status, status } from "./webhooks";

const ISOLATE_LIMIT = 128 * 1024 * 1024;
/** Statuses per POST and POSTs in flight while filling in the statuses (not measured). */
const FILL_BATCH = 100;
const FILL_CONCURRENCY = 4;
/** The watched export's reader pauses 50 ms after every 200 KB, about a page of rows (see `watchedExport`). */
const READ_PAUSE = { ms: 50, everyBytes: 200 * 1024 };

export async function benchReport(e: SectionEnv, kit: Kit): Promise<void> {
  const cfg = {
    rows: Math.max(1, kit.int("REPORT_ROWS", 100_000)),
    sendMps: Math.min(1000, Math.max(1, kit.int("REPORT_SEND_MPS", 600))),
    statuses: kit.int("REPORT_STATUSES", 1) === 1,
    /** `send` (the figure) or `cancel`: uploaded and cancelled at once, narrow rows, for quick runs. */
    fill: kit.setting("REPORT_FILL", "send") === "cancel" ? "cancel" : "send",
  };
  kit.note(`\n## 6. Report export (GET /v1/campaigns/{id}/report.csv of ${cfg.rows} recipients)\n`);
  kit.note(
    `- settings: BENCH_REPORT_ROWS=${cfg.rows}, BENCH_REPORT_FILL=${cfg.fill}, BENCH_REPORT_SEND_MPS=${cfg.sendMps}, BENCH_REPORT_STATUSES=${cfg.statuses ? 1 : 0}`,
  );

  let camp: SentCampaign;
  if (cfg.fill === "send") {
    kit.say(`  sending the campaign to export (${cfg.rows} recipients at ${cfg.sendMps}/s) …`);
    camp = await sendCsvCampaign(e, kit, "report", cfg.rows, cfg.sendMps);
    kit.note(
      `- the campaign: ${camp.id}, ${cfg.rows} recipients uploaded as CSV in ${fmt(camp.uploadS, 1)} s and sent through the simulator at a cap of ${cfg.sendMps}/s in ${fmt(camp.sendS, 0)} s (${fmt(cfg.rows / camp.sendS, 0)}/s), ${camp.status}, counts ${JSON.stringify(camp.counts)}${camp.errors.length ? `, errors ${JSON.stringify(camp.errors)}` : ""}`,
    );
  } else {
    kit.say(`  uploading the campaign to export (${cfg.rows} recipients) and cancelling it …`);
    camp = await cancelledCampaign(e, kit, cfg.rows);
    kit.note(
      `- **BENCH_REPORT_FILL=cancel**: campaign ${camp.id}, ${cfg.rows} recipients uploaded as CSV in ${fmt(camp.uploadS, 1)} s and cancelled at once: counts ${JSON.stringify(camp.counts)}. Its rows have no wamid and no times, so they are narrower and quicker to export than a sent campaign's: a quick run, not the figure`,
    );
  }
  const auth = { authorization: `Key ${camp.key}` };

  if (cfg.statuses && cfg.fill === "send") {
    kit.say("  posting the campaign's statuses (delivered for all, read for one in three) …");
    const f = await fillStatuses(e, kit, camp);
    kit.note(
      `- statuses posted for it (the way §5 posts them, ${FILL_BATCH} per POST, ${FILL_CONCURRENCY} in flight): ${f.posted} (delivered with pricing for every accepted message, read for one in three; wamids from ${f.from}) in ${fmt(f.seconds, 1)} s; campaign afterwards: counts ${JSON.stringify(f.counts)}, confirmedRoutes ${JSON.stringify(f.confirmedRoutes)}`,
    );
  }

  await kit.simSettled(e.sim);
  await sleep(2000); // Let the last queue batches finish: the export should have the machine.
  const pids = workerdPids(kit.gatewayPgid(e.gw));
  const url = `${e.gw.url}/v1/campaigns/${camp.id}/report.csv`;

  // 1. The time, with nothing attached to the gateway.
  kit.say("  exporting, nothing attached …");
  const cpu0 = new Map(pids.map((p) => [p, cpuSecondsOf(p)]));
  const plain = await streamGet(url, auth, false);
  const cpu = pids.map((p) => [p, cpuSecondsOf(p) - (cpu0.get(p) ?? 0)] as const);
  const cpuRuntime = cpu.filter(([p]) => isRuntimeProcess(p)).reduce((s, [, c]) => s + c, 0);
  const cpuAll = cpu.reduce((s, [, c]) => s + c, 0);
  const rows = plain.lines - 1;
  const seconds = plain.ms / 1000;
  kit.note(
    `- **export with nothing attached: HTTP ${plain.status}, ${rows} rows, ${mb(plain.bytes)} (${fmt(plain.bytes / Math.max(1, rows), 0)} bytes a row) in ${fmt(seconds, 2)} s = ${fmt(rows / seconds, 0)} rows/s** (${fmt(plain.bytes / 1024 / 1024 / seconds, 2)} MB/s); headers after ${fmt(plain.headersMs, 0)} ms; read by a client that never holds the stream back`,
  );
  kit.note(
    `- gateway CPU during it: ${fmt(cpuAll, 2)} s over ${fmt(seconds, 2)} s wall (${fmt((cpuAll * 1000 * 1000) / Math.max(1, rows), 1)} ms per 1000 rows), of which the runtime process — the Worker and its local D1 — ${fmt(cpuRuntime, 2)} s, wrangler's proxy ${fmt(cpuAll - cpuRuntime, 2)} s`,
  );

  // 2. The memory, with the isolate's inspector attached: heap every 50 ms, RSS every 100 ms, a CPU
  // profile, straight at the runtime workerd. Second, so that nothing the inspector leaves behind
  // can touch the time (once, an export after it waited 237 s for its headers).
  kit.say("  exporting again, with the inspector attached (heap, profile) …");
  await sleep(2000);
  const watched = await watchedExport(e, kit, url, auth, pids);
  kit.note(watched.notes.join("\n"));

  kit.verdict(
    `report: export of ${cfg.rows} rows (GET report.csv, streamed to the end, nothing attached)`,
    `${fmt(seconds, 2)} s, ${fmt(rows / seconds, 0)} rows/s, ${mb(plain.bytes)}`,
    "(for reading)",
    null,
  );
  kit.verdict(
    "report: rows in the export",
    `${rows} (HTTP ${plain.status})`,
    `${cfg.rows}`,
    plain.status === 200 && rows === cfg.rows,
  );
  kit.verdict(
    "report: isolate JS heap peak during the export",
    Number.isFinite(watched.heapPeak) ? mb(watched.heapPeak) : "not measured (no inspector)",
    "< 128 MB isolate limit",
    Number.isFinite(watched.heapPeak) ? watched.heapPeak < ISOLATE_LIMIT : null,
  );
}

/** The export with the inspector attached: heap and RSS sampled, a CPU profile, the events seen. */
async function watchedExport(
  e: SectionEnv,
  kit: Kit,
  url: string,
  auth: Record<string, string>,
  pids: number[],
): Promise<{ heapPeak: number; notes: string[] }> {
  try {
    e.inspector = await connectRuntimeInspector(kit.gatewayPgid(e.gw));
  } catch (err) {
    kit.say(`  (runtime inspector: ${err instanceof Error ? err.message : String(err)})`);
  }
  if (!e.inspector)
    return { heapPeak: Number.NaN, notes: ["- isolate JS heap: not measured (no inspector connection)"] };
  const insp = e.inspector;
  try {
    const heap = async () => {
      try {
        return (await insp.call("Runtime.getHeapUsage", {}, 5000)) as { usedSize: number; totalSize: number };
      } catch {
        return null;
      }
    };
    // A full collection first, so "before" is what the isolate keeps, not garbage of the sends.
    const gc = await insp.call("HeapProfiler.collectGarbage", {}, 5000).then(
      () => true,
      () => false,
    );
    await sleep(1000); // The collection is not always over when the call answers.
    const before = await heap();
    const rssBefore = memOfAll(pids).rss;
    let peakRss = rssBefore;
    let peakUsed = before?.usedSize ?? Number.NaN;
    let peakTotal = before?.totalSize ?? Number.NaN;
    const trail: number[] = [];
    let sampling = true;
    const rssSampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, memOfAll(pids).rss);
        await sleep(100);
      }
    })();
    const heapSampler = (async () => {
      while (sampling) {
        const h = await heap();
        if (h) {
          peakUsed = Math.max(peakUsed, h.usedSize);
          peakTotal = Math.max(peakTotal, h.totalSize);
          trail.push(h.usedSize);
        }
        // Often: a busy isolate answers between its tasks only, and an export takes seconds.
        await sleep(50);
      }
    })();
    await insp.call("Profiler.enable");
    await insp.call("Profiler.setSamplingInterval", { interval: 1000 });
    await insp.call("Profiler.start");
    // Read with short pauses: the busy isolate answers the inspector only between its tasks, and
    // read at full speed the export gave 3 heap samples in all. Paused, the isolate waits on the
    // stream's backpressure now and then, and the heap is sampled all along the export.
    const got = await streamGet(url, auth, false, 15 * 60_000, READ_PAUSE);
    const { profile } = await insp.call("Profiler.stop", {}, 120_000);
    sampling = false;
    await Promise.all([rssSampler, heapSampler]);
    const after = await heap();
    const at = (q: number) => trail[Math.min(trail.length - 1, Math.floor(q * trail.length))] ?? Number.NaN;
    const inc = inclusiveShares(profile, ["pull", "reportLine", "csvCell", "encode", "all", "fetch"]);
    return {
      heapPeak: peakUsed,
      notes: [
        `- export with the inspector attached (heap sampling and a CPU profile, which slow the isolate; read with a ${READ_PAUSE.ms} ms pause after every ${READ_PAUSE.everyBytes / 1024} KB, so that the heap is sampled all along): HTTP ${got.status}, ${got.lines - 1} rows, ${mb(got.bytes)} in ${fmt(got.ms / 1000, 2)} s`,
        `- isolate JS heap (Runtime.getHeapUsage every 50 ms, as the busy isolate answers): used ${mb(before?.usedSize ?? Number.NaN)} before${gc ? " (after a forced full GC)" : ""}, **peak ${mb(peakUsed)}** (heap size peak ${mb(peakTotal)}), ${mb(after?.usedSize ?? Number.NaN)} after; used at 25 / 50 / 75 / 100 % of the samples: ${[0.25, 0.5, 0.75, 0.999].map((q) => mb(at(q))).join(" / ")} (${trail.length} samples)`,
        `- gateway workerd RSS (summed, every 100 ms): ${mb(rssBefore)} before, peak ${mb(peakRss)} (+${mb(peakRss - rssBefore)}); RSS also holds the local D1 (SQLite page cache)`,
        `- CPU profile of the isolate during that export (${inc.total} samples of 1 ms): idle ${pct(inc.idle)}, garbage collector ${pct(inc.gc)}; inclusive: ${[...inc.byName].map(([k, v]) => `${k} ${pct(v)}`).join(", ")}; top self time: ${topFunctions(
          profile,
          8,
        )
          .map(([k, v]) => `${k} ${pct(v)}`)
          .join("; ")}`,
      ],
    };
  } finally {
    insp.close();
    e.inspector = null;
  }
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "n/a");

/**
 * Meta's statuses for the campaign: `delivered` with pricing for every accepted message (it fills
 * the sent and delivered times and the confirmed route), `read` for one in three; stamped a minute
 * ago. Waits until the campaign's funnel shows them all.
 */
async function fillStatuses(
  e: SectionEnv,
  kit: Kit,
  camp: SentCampaign,
): Promise<{ posted: number; seconds: number; counts: unknown; confirmedRoutes: unknown; from: string }> {
  const t0 = Date.now();
  const { targets, from } = await sentWamids(kit, e, camp);
  const at = Math.floor(Date.now() / 1000) - 60;
  const all: Status[] = [];
  targets.forEach((t, j) => {
    all.push(status(t, 1, at));
    if (j % 3 === 0) all.push(status(t, 2, at + 30));
  });
  const reads = Math.ceil(targets.length / 3);
  const url = new URL(`${e.gw.url}/webhooks/meta`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: FILL_CONCURRENCY });
  let next = 0;
  const failed: number[] = [];
  const worker = async () => {
    for (;;) {
      const i = next++ * FILL_BATCH;
      if (i >= all.length) return;
      const body = notification(camp.wabaId, camp.phoneNumberId, all.slice(i, i + FILL_BATCH));
      for (let attempt = 1; attempt <= 5; attempt++) {
        const r = await postSigned(agent, url, body, kit.appSecret);
        if (r.status === 200) break;
        failed.push(r.status);
        await sleep(1000 * attempt);
      }
    }
  };
  await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
  agent.destroy();
  if (failed.length) kit.say(`    (statuses: refused POSTs ${spread(failed)}, posted again)`);
  let detail: any;
  let seen = -1;
  let movedAt = Date.now();
  for (;;) {
    detail = await kit.retrying(() => campaignDetail(e, camp));
    const f = detail.funnel as { delivered: number; read: number };
    if (f.delivered >= targets.length && f.read >= reads) break;
    if (f.delivered + f.read !== seen) {
      seen = f.delivered + f.read;
      movedAt = Date.now();
    }
    if (Date.now() - movedAt > 60_000) {
      kit.say(`    ! statuses: nothing applied for 60 s (funnel ${JSON.stringify(f)}), exporting anyway`);
      break;
    }
    await sleep(1000);
  }
  return {
    posted: all.length,
    seconds: (Date.now() - t0) / 1000,
    counts: detail.counts,
    confirmedRoutes: detail.confirmedRoutes,
    from,
  };
}

/** The quick fill: a CSV campaign cancelled right after its 202 (like the intake's), then settled. */
async function cancelledCampaign(e: SectionEnv, kit: Kit, n: number): Promise<SentCampaign> {
  const num = await kit.simNumber(e.sim, "report-cancelled");
  const key = await kit.createBot(e.gw, "report-cancelled", num, 80);
  const auth = { authorization: `Key ${key}` };
  const q = new URLSearchParams({
    name: "bench report (cancelled)",
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
  if (up.status !== 202) throw new Error(`upload HTTP ${up.status} ${up.text.slice(0, 300)}`);
  const id = up.json.id as string;
  const cancel = await callJson(`${e.gw.url}/v1/campaigns/${id}/cancel`, "POST", undefined, auth, 120_000);
  if (cancel.status !== 200) throw new Error(`cancel HTTP ${cancel.status} ${cancel.text.slice(0, 300)}`);
  let detail: any;
  for (let i = 0; i < 60; i++) {
    detail = await kit.retrying(() => campaignDetail(e, { id, key }));
    if ((detail.counts?.queued ?? 0) === 0) break;
    await sleep(1000);
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
