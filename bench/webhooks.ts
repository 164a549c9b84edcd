/**
 * §5 Webhook ingest: how many message statuses per second the gateway absorbs (POST accepted and
 * applied to the messages' rows) when Meta posts them in batches, and how fast a single-status POST
 * is answered meanwhile. See bench/README.md ("5. Webhook ingest").
 *
 * The statuses belong to real messages: a campaign the bench sent through the simulator first,
 * whose wamids the simulator lists (fixtures.ts `sentWamids`). Completion is read from the API, not
 * guessed: each stage's timestamps fall in a minute of their own (sent in minute S, delivered in
 * S+1, read in S+2), so the campaign's timeline counts exactly the statuses applied so far (a `read`
 * applied before its `delivered` puts the delivered time in minute S+2, and the real `delivered`
 * later moves it back).
 */
import { createHmac } from "node:crypto";
import http from "node:http";
import {
  campaignDetail,
  isRuntimeProcess,
  queueBatches,
  reportRows,
  sendCsvCampaign,
  sentWamids,
  spread,
  streamGet,
} from "./fixtures";
import { fmt, type Kit, type SectionEnv } from "./kit";
import { cpuSecondsOf, workerdPids } from "./procs";
import { sleep } from "./servers";
import { percentile } from "./stats";

const TARGET_PER_S = 3000;
const TARGET_P99_MS = 250;
/** How far (in messages) a message's `delivered` and `read` come after its `sent` in the stream. */
const DELIVERED_LAG = 500;
const READ_LAG = 1500;
const STAGES = ["sent", "delivered", "read"] as const;
/** Meta's pricing object of an MM Lite message (meta-platform.md); on `sent` and `delivered` only. */
const PRICING = { billable: true, pricing_model: "PMP", type: "regular", category: "marketing_lite" };

export interface Target {
  wamid: string;
  /** recipient_id: the number's digits, as Meta writes it. */
  to: string;
}

export interface Status {
  id: string;
  status: (typeof STAGES)[number];
  timestamp: string;
  recipient_id: string;
  pricing?: typeof PRICING;
}

/** A notification exactly as meta-platform.md shows it: one entry, one `messages` change. */
export function notification(wabaId: string, phoneNumberId: string, statuses: Status[]): string {
  return JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: wabaId,
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: phoneNumberId },
              statuses,
            },
          },
        ],
      },
    ],
  });
}

export function status(t: Target, stage: 0 | 1 | 2, unixS: number): Status {
  const s: Status = {
    id: t.wamid,
    status: STAGES[stage],
    timestamp: String(unixS),
    recipient_id: t.to,
  };
  if (stage < 2) s.pricing = PRICING;
  return s;
}

interface Posted {
  status: number;
  ms: number;
}

/** One signed POST over `agent` (keep-alive); never throws (-1 = no answer). */
export function postSigned(agent: http.Agent, url: URL, body: string, secret: string): Promise<Posted> {
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-hub-signature-256": signature,
        },
        timeout: 60_000,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        res.on("error", () => resolve({ status: -1, ms: performance.now() - started }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: -1, ms: performance.now() - started }));
    req.end(body);
  });
}

const pctl = (xs: number[], p: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
const ms3 = (xs: number[]) =>
  xs.length === 0 ? "—" : `${fmt(pctl(xs, 50), 0)} / ${fmt(pctl(xs, 95), 0)} / ${fmt(pctl(xs, 99), 0)}`;

export async function benchWebhooks(e: SectionEnv, kit: Kit): Promise<void> {
  const cfg = {
    messages: kit.int("WEBHOOK_MESSAGES", 10_000),
    probeMessages: Math.max(1, kit.int("WEBHOOK_PROBE_MESSAGES", 200)),
    batch: Math.max(1, kit.int("WEBHOOK_BATCH", 20)),
    concurrency: Math.max(1, kit.int("WEBHOOK_CONCURRENCY", 8)),
    probeGapMs: kit.int("WEBHOOK_PROBE_GAP_MS", 20),
    sendMps: Math.min(1000, Math.max(1, kit.int("WEBHOOK_SEND_MPS", 600))),
  };
  kit.note(
    `\n## 5. Webhook ingest (${cfg.messages} messages × 3 statuses, ${cfg.batch} statuses per POST, ${cfg.concurrency} POSTs in flight)\n`,
  );
  kit.note(
    `- settings: BENCH_WEBHOOK_MESSAGES=${cfg.messages}, BENCH_WEBHOOK_BATCH=${cfg.batch}, BENCH_WEBHOOK_CONCURRENCY=${cfg.concurrency}, BENCH_WEBHOOK_PROBE_MESSAGES=${cfg.probeMessages}, BENCH_WEBHOOK_PROBE_GAP_MS=${cfg.probeGapMs}, BENCH_WEBHOOK_SEND_MPS=${cfg.sendMps}`,
  );

  // The messages: a real campaign, sent through the simulator; their wamids as Meta issued them.
  const n = cfg.messages + cfg.probeMessages;
  kit.say(`  sending the campaign whose statuses are posted (${n} recipients at ${cfg.sendMps}/s) …`);
  const camp = await sendCsvCampaign(e, kit, "webhooks", n, cfg.sendMps);
  kit.note(
    `- the messages: campaign ${camp.id}, ${n} recipients sent at a cap of ${cfg.sendMps}/s in ${fmt(camp.sendS, 1)} s (upload ${fmt(camp.uploadS, 2)} s), ${camp.status}, counts ${JSON.stringify(camp.counts)}${camp.errors.length ? `, errors ${JSON.stringify(camp.errors)}` : ""}`,
  );
  const auth = { authorization: `Key ${camp.key}` };
  const { targets: sent, from } = await sentWamids(kit, e, camp);
  kit.note(`- their wamids: ${sent.length}, from ${from}`);
  const probeCount = Math.min(cfg.probeMessages, Math.floor(sent.length / 10));
  const load = sent.slice(0, sent.length - probeCount).slice(0, cfg.messages);
  const probe = sent.slice(sent.length - probeCount);
  if (load.length === 0 || probe.length === 0) throw new Error(`only ${sent.length} messages were accepted`);
  if (load.length < cfg.messages)
    kit.note(`- **only ${sent.length} of ${n} messages were accepted: ${load.length} carry the load**`);

  // The stream of statuses in the order Meta would post them: each message's `delivered` and `read`
  // some way behind its `sent`, so a POST mixes stages and messages like Meta's batches do.
  const minute0 = Math.ceil(Date.now() / 60_000) * 60;
  const stamp = (j: number, stage: number) => minute0 + stage * 60 + (j % 50);
  const stream: { order: number; st: Status }[] = [];
  load.forEach((t, j) => {
    for (const stage of [0, 1, 2] as const)
      stream.push({
        order: j + (stage === 0 ? 0 : stage === 1 ? DELIVERED_LAG : READ_LAG) + stage / 10,
        st: status(t, stage, stamp(j, stage)),
      });
  });
  stream.sort((a, b) => a.order - b.order);
  const bodies: string[] = [];
  for (let i = 0; i < stream.length; i += cfg.batch)
    bodies.push(
      notification(
        camp.wabaId,
        camp.phoneNumberId,
        stream.slice(i, i + cfg.batch).map((x) => x.st),
      ),
    );
  const total = stream.length;
  // The probe's statuses are stamped in minute S+3, away from the load's minutes.
  const probeBody = (k: number) => {
    const t = probe[k % probe.length] as Target;
    const stage = (Math.floor(k / probe.length) % 3) as 0 | 1 | 2;
    return notification(camp.wabaId, camp.phoneNumberId, [status(t, stage, minute0 + 180 + stage * 10)]);
  };

  const url = new URL(`${e.gw.url}/webhooks/meta`);
  const minuteOf = (iso: string) => Math.floor(Date.parse(iso) / 60_000) * 60;
  const applied = (detail: any): number[] => {
    const at = (stage: number) =>
      (detail.timeline as { at: string; sent: number; delivered: number; read: number }[]).find(
        (b) => minuteOf(b.at) === minute0 + stage * 60,
      );
    return [at(0)?.sent ?? 0, at(1)?.delivered ?? 0, at(2)?.read ?? 0];
  };

  await kit.simSettled(e.sim);
  const pgid = kit.gatewayPgid(e.gw);
  const pids = workerdPids(pgid);
  const cpu0 = new Map(pids.map((p) => [p, cpuSecondsOf(p)]));
  const logOffset = e.gw.logs().length;
  kit.say(`  posting ${total} statuses in ${bodies.length} POSTs …`);

  const loadAgent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });
  const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const t0 = performance.now();
  const epoch0 = Date.now();
  let postsDoneAt = Number.NaN;
  const loadMs: number[] = [];
  const refused: Record<string, number> = {};
  let next = 0;
  let retried = 0;
  let lost = 0;

  // The probe: one single-status POST at a time, a short pause between, from the first batched POST
  // until the last status is applied (the consumer's work is load too).
  let probing = true;
  const probes: { at: number; ms: number; status: number }[] = [];
  const prober = (async () => {
    for (let k = 0; probing; k++) {
      const at = performance.now() - t0;
      const r = await postSigned(probeAgent, url, probeBody(k), kit.appSecret);
      probes.push({ at, ms: r.ms, status: r.status });
      if (cfg.probeGapMs > 0) await sleep(cfg.probeGapMs);
    }
  })();

  // The load: closed loop of `concurrency` senders. A refused POST is posted again (Meta retries).
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      for (let attempt = 1; ; attempt++) {
        const r = await postSigned(loadAgent, url, bodies[i] as string, kit.appSecret);
        loadMs.push(r.ms);
        if (r.status === 200) break;
        refused[String(r.status)] = (refused[String(r.status)] ?? 0) + 1;
        if (attempt >= 5) {
          lost++;
          break;
        }
        retried++;
        await sleep(1000 * attempt);
      }
    }
  };
  const posting = Promise.all(Array.from({ length: cfg.concurrency }, worker)).then(() => {
    postsDoneAt = performance.now() - t0;
  });

  // Completion: the campaign's timeline, polled every 250 ms.
  const samples: { at: number; applied: number; pollMs: number }[] = [];
  let last = [0, 0, 0];
  let doneAt = Number.NaN;
  let lastMoveAt = 0;
  while (performance.now() - t0 < 15 * 60_000) {
    await sleep(250);
    const p0 = performance.now();
    let detail: any;
    try {
      detail = await campaignDetail(e, camp, 30_000);
    } catch {
      continue; // Too busy to answer: the next poll will tell.
    }
    const at = performance.now() - t0;
    last = applied(detail);
    const sum = last.reduce((s, x) => s + x, 0);
    if (sum !== samples[samples.length - 1]?.applied) lastMoveAt = at;
    samples.push({ at, applied: sum, pollMs: at - (p0 - t0) });
    if (sum >= total) {
      doneAt = at;
      break;
    }
    if (Number.isFinite(postsDoneAt) && at - lastMoveAt > 60_000) {
      kit.say(`    ! nothing applied for 60 s, stopped waiting at ${sum}/${total}`);
      break;
    }
  }
  probing = false;
  await Promise.all([posting, prober]);
  loadAgent.destroy();
  probeAgent.destroy();
  const cpu = pids.map((p) => [p, cpuSecondsOf(p) - (cpu0.get(p) ?? 0)] as const);
  const cpuRuntime = cpu.filter(([p]) => isRuntimeProcess(p)).reduce((s, [, c]) => s + c, 0);
  const cpuAll = cpu.reduce((s, [, c]) => s + c, 0);
  const batches = queueBatches(e.gw.logs(), logOffset, "mmlite-webhooks");

  // The rows themselves, through the report: each load message read, with the three times posted.
  const check = await streamGet(`${e.gw.url}/v1/campaigns/${camp.id}/report.csv`, auth, true);
  const byWamid = new Map(reportRows(check.text ?? "").map((r) => [r.wamid, r]));
  let right = 0;
  let firstWrong = "";
  load.forEach((t, j) => {
    const r = byWamid.get(t.wamid);
    const ok =
      r !== undefined &&
      r.status === "read" &&
      r.confirmed_route === "mm_lite" &&
      Date.parse(r.sent_at ?? "") === stamp(j, 0) * 1000 &&
      Date.parse(r.delivered_at ?? "") === stamp(j, 1) * 1000 &&
      Date.parse(r.read_at ?? "") === stamp(j, 2) * 1000;
    if (ok) right++;
    else if (!firstWrong) firstWrong = JSON.stringify(r ?? { wamid: t.wamid, missing: true });
  });

  const appliedTotal = samples[samples.length - 1]?.applied ?? 0;
  const wallS = (Number.isFinite(doneAt) ? doneAt : (samples[samples.length - 1]?.at ?? 1)) / 1000;
  const rate = appliedTotal / wallS;
  const postRate = total / (postsDoneAt / 1000);
  const reach = (share: number) => samples.find((s) => s.applied >= share * total)?.at;
  const inPosting = probes.filter((p) => p.at <= postsDoneAt && p.status === 200).map((p) => p.ms);
  const after = probes.filter((p) => p.at > postsDoneAt && p.status === 200).map((p) => p.ms);
  const probeOk = probes.filter((p) => p.status === 200).map((p) => p.ms);
  const probeBad = probes.length - probeOk.length;
  const p99 = pctl(probeOk, 99);
  const acked = batches.reduce((s, b) => s + b[1], 0);

  kit.note(
    `- load: ${total} statuses (${load.length} messages × sent, delivered, read; pricing \`marketing_lite\` on sent and delivered) in ${bodies.length} POSTs of ${cfg.batch}, signed with the gateway's META_APP_SECRET, posted by ${cfg.concurrency} closed-loop senders over keep-alive; first POST at ${new Date(epoch0).toISOString()}; statuses stamped in minutes ${new Date(minute0 * 1000).toISOString().slice(11, 16)}, +1, +2 (UTC), up to 3 min ahead of the clock, so each stage has a timeline minute of its own`,
  );
  kit.note(
    `- **all ${total} statuses applied ${Number.isFinite(doneAt) ? `${fmt(doneAt / 1000, 2)} s` : `— not reached (${appliedTotal} applied after ${fmt(wallS, 1)} s)`} after the first POST: ${fmt(rate, 0)} statuses/s = ${fmt(rate / TARGET_PER_S, 2)}× the target of ${TARGET_PER_S}/s** (measured to the answer of the first GET /v1/campaigns/{id}, polled every 250 ms, whose timeline shows every status applied; poll answers took ${ms3(samples.map((s) => s.pollMs))} ms p50/p95/p99)`,
  );
  kit.note(
    `- the POSTs: all answered ${fmt(postsDoneAt / 1000, 2)} s after the first (${fmt(postRate, 0)} statuses/s, ${fmt(bodies.length / (postsDoneAt / 1000), 0)} POSTs/s accepted); answer times p50/p95/p99 ${ms3(loadMs)} ms, max ${fmt(Math.max(...loadMs), 0)} ms; refused ${JSON.stringify(refused)}, re-posted ${retried}, given up ${lost}`,
  );
  kit.note(
    `- applied over time (s after the first POST): 25 % at ${fmt((reach(0.25) ?? Number.NaN) / 1000, 1)}, 50 % at ${fmt((reach(0.5) ?? Number.NaN) / 1000, 1)}, 90 % at ${fmt((reach(0.9) ?? Number.NaN) / 1000, 1)}, 100 % at ${fmt(doneAt / 1000, 1)}; when the last POST was answered ${fmt((100 * (samples.find((s) => s.at >= postsDoneAt)?.applied ?? 0)) / total, 0)} % were applied; last counts seen (sent, delivered, read) ${last.join(", ")}`,
  );
  kit.note(
    `- webhook queue consumer (wrangler's \`QUEUE mmlite-webhooks\` lines): ${batches.length} batches, ${acked} notifications handed over (${bodies.length + probes.length} were posted, probe included); batch sizes ${spread(batches.map((b) => b[1]))} (min / median / max), durations ${spread(batches.map((b) => b[2]))} ms, ${fmt(batches.reduce((s, b) => s + b[2], 0) / 1000, 1)} s in all`,
  );
  kit.note(
    `- gateway CPU over the ${fmt(wallS, 1)} s: ${fmt(cpuAll, 1)} s in all (${fmt((cpuAll * 1000) / Math.max(1, appliedTotal), 3)} ms per status), of which the runtime process — Worker, local D1, queue — ${fmt(cpuRuntime, 1)} s, wrangler's proxy ${fmt(cpuAll - cpuRuntime, 1)} s; ${pids.length} workerd processes on 2 cores`,
  );
  kit.note(
    `- single-status POSTs meanwhile (one client, one at a time, ${cfg.probeGapMs} ms apart, ${probe.length} other messages of the campaign): ${probes.length} POSTs, ${probeBad} not answered 200; answer times p50/p95/p99 **${ms3(probeOk)} ms**, max ${fmt(Math.max(...probeOk), 0)} ms; while the batched POSTs were being answered (${inPosting.length}) ${ms3(inPosting)} ms, afterwards while the consumer still applied (${after.length}) ${ms3(after)} ms`,
  );
  kit.note(
    `- check through report.csv: ${right} of ${load.length} load messages read, confirmed mm_lite, with exactly the sent/delivered/read times posted${firstWrong ? `; first that is not: ${firstWrong.slice(0, 400)}` : ""}`,
  );

  kit.verdict(
    `webhooks: statuses absorbed per second (${total} statuses, ${cfg.batch} per POST, ${cfg.concurrency} in flight, first POST → all applied)`,
    Number.isFinite(doneAt)
      ? `${fmt(rate, 0)}/s (${fmt(rate / TARGET_PER_S, 2)}× the target; POSTs answered at ${fmt(postRate, 0)}/s)`
      : `not all applied: ${appliedTotal}/${total} in ${fmt(wallS, 1)} s`,
    `≥ ${TARGET_PER_S}/s`,
    Number.isFinite(doneAt) && rate >= TARGET_PER_S,
  );
  kit.verdict(
    "webhooks: single-status POST answer time under that load (p50 / p95 / p99)",
    `${ms3(probeOk)} ms (${probeOk.length} POSTs${probeBad ? `, ${probeBad} not 200` : ""})`,
    `p99 < ${TARGET_P99_MS} ms`,
    probeBad === 0 && p99 < TARGET_P99_MS,
  );
  kit.verdict(
    "webhooks: load messages with exactly the posted statuses (report.csv)",
    `${right} of ${load.length}`,
    "all",
    right === load.length,
  );
}
