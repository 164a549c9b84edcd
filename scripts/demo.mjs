#!/usr/bin/env node
// `npm run demo`: the main job end to end, locally, on embedded defaults.
//
// Starts the Meta simulator and the gateway as two `wrangler dev` processes that talk over plain
// HTTP, as in production (gateway → META_GRAPH_URL = the simulator's port; simulator → signed
// webhooks to the gateway's /webhooks/meta). Two processes rather than `npm run dev`'s one because
// the demo must reach the simulator's control API (/_sim/...) to play the business that signs the
// MM Lite terms, to switch on delivery webhooks and to read what "Meta" measured (per-second
// arrivals): under `npm run dev` the simulator has no port of its own. Between the two, small
// relays in this process (scripts/demo/relay.mjs) keep wrangler dev's keep-alive race from
// dropping requests; `--direct` leaves them out.
//
// Then: registers a bot whose WABA is ELIGIBLE for MM Lite, has the simulator sign the terms
// (WABA → ONBOARDED + signed account_update MM_LITE_TERMS_SIGNED), sends a campaign from
// examples/audience.csv with a live progress bar, lets the simulator deliver / read / fail the
// messages through signed status webhooks, and prints the campaign's performance, the pacing the
// simulator measured, the report CSV (out/demo/report.csv) and the portal URL.
//
// Every run starts from fresh state (a new temp --persist-to, migrated first) and removes it at
// the end; each wrangler runs in its own process group that ends with the demo (Ctrl-C, errors,
// even SIGKILL of the demo: see scripts/lib/process-group.mjs). Node 20 built-ins only.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startRelay } from "./demo/relay.mjs";
import {
  bar,
  bold,
  cyan,
  dim,
  endLine,
  green,
  info,
  int,
  liveLine,
  pct,
  perSec,
  red,
  secs,
  silence,
  step,
  table,
  warn,
  yellow,
} from "./demo/ui.mjs";
import {
  freePort,
  killAll,
  liveGroupIds,
  portFree,
  recordGroups,
  runToEnd,
  sleep,
  stopAll,
  supervise,
  sweepStaleDirs,
  waitReady,
  withoutInspectorProxy,
} from "./lib/process-group.mjs";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Checkout the Workers are built from: this one, or MMLITE_DEMO_ROOT (e.g. a snapshot while others edit). */
const ROOT = resolve(process.env.MMLITE_DEMO_ROOT ?? REPO);

const USAGE = `npm run demo [-- options]

  --rate N            the bot's throughput cap, messages per second                [200]
  --csv FILE          audience: phone column + one column per template parameter     [examples/audience.csv]
  --port N            gateway port                                   [8787, or a free one if taken]
  --delivered X       share of sent messages the simulator delivers                 [0.93]
  --read X            share of delivered messages it marks read                     [0.45]
  --failed X          share of accepted messages it fails                           [0.04]
  --fail-code N       error code of those failures                                  [131049]
  --webhook-delay MS  delay between a message's status webhooks                     [400]
  --webhook-batch N   statuses per webhook POST at most (Meta batches too)          [10]
  --keep              leave gateway and simulator running at the end (Ctrl-C stops them)
  --direct            no relays: the Workers call each other's wrangler dev ports directly
                      (see scripts/demo/relay.mjs for why the relays are there)
  --strict            exit 1 when the run ends with warnings (pacing over the cap, unsettled funnel, …)
  -h, --help`;

let opts;
try {
  opts = parseArgs({
    options: {
      rate: { type: "string", default: "200" },
      csv: { type: "string", default: "examples/audience.csv" },
      port: { type: "string" },
      delivered: { type: "string", default: "0.93" },
      read: { type: "string", default: "0.45" },
      failed: { type: "string", default: "0.04" },
      "fail-code": { type: "string", default: "131049" },
      "webhook-delay": { type: "string", default: "400" },
      "webhook-batch": { type: "string", default: "10" },
      keep: { type: "boolean", default: false },
      direct: { type: "boolean", default: false },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}

function numberOpt(name, min, max, integer) {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    console.error(
      `--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}\n\n${USAGE}`,
    );
    process.exit(2);
  }
  return v;
}
const RATE = numberOpt("rate", 1, 1000, true);
const DELIVERED = numberOpt("delivered", 0, 1, false);
const READ = numberOpt("read", 0, 1, false);
const FAILED = numberOpt("failed", 0, 1, false);
const FAIL_CODE = numberOpt("fail-code", 1, 10_000_000, true);
const HOOK_DELAY = numberOpt("webhook-delay", 0, 60_000, true);
const HOOK_BATCH = numberOpt("webhook-batch", 1, 1000, true);
const PORT = opts.port === undefined ? undefined : numberOpt("port", 1, 65535, true);
const CSV = resolve(opts.csv);

// Embedded defaults: the values of .dev.vars.example / sim/wrangler.toml (local only).
const ADMIN_TOKEN = "dev-admin-token";
const META_TOKEN = "dev-meta-token";
const APP_SECRET = "dev-app-secret";
const VERIFY_TOKEN = "dev-verify-token";
// The simulator's `demo` seed: business 5060, WABA …399 "Demo Store (not onboarded)" is ELIGIBLE.
const BUSINESS = "5060";
const WABA = "102290129340399";
const PHONE = "106540352242923";
const TEMPLATE = { name: "fall_sale", language: "pt_BR" };
const CAMPAIGN_NAME = "Demo fall sale";
const META_MPS = 1000;
const LOCAL_SENDS_IN_FLIGHT = 48;
const LOCAL_PACING_JITTER_MS = 50;

const OUT = join(REPO, "out", "demo");
/** Prefix of the run's temp dir (state of both Workers), swept once a killed run's groups are gone. */
const DIR_PREFIX = "mmlite-demo-";
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

// ---------------------------------------------------------------------------------------------
// Servers and shutdown

const started = Date.now();
/** Things the run showed that are not as they should be: printed where seen and counted at the end. */
const warnings = [];
function problem(text) {
  warnings.push(text);
  warn(text);
}
let tmp;
const servers = []; // { name, pgid, exited, logFile }
const relays = [];
/** Sends as they left for the simulator (the graph relay's tally), or undefined with --direct. */
let sendTally;
let stopping = false;

async function shutdown() {
  await stopAll();
  for (const r of relays.splice(0)) r.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    silence();
    const code = 128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1);
    if (stopping) {
      killAll();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      process.exit(code);
    }
    stopping = true;
    console.log(`\n${yellow(sig === "SIGINT" ? "Ctrl-C" : sig)}: stopping the gateway and the simulator…`);
    shutdown().then(
      () => {
        console.log(
          liveGroupIds().length === 0 ? "Stopped; temporary state removed." : "Some processes did not stop.",
        );
        process.exit(code);
      },
      () => process.exit(code),
    );
  });
}

// Whatever ends the demo (but SIGKILL), its servers and its state go with it.
process.on("exit", () => {
  killAll();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * `registry`: a private dev registry (WRANGLER_REGISTRY_PATH). Other `wrangler dev` sessions on
 * the machine (`npm run dev`, tests, benchmarks: same Worker names) must neither bind to the
 * demo's Workers nor make wrangler reload them when they come and go (a reload drops the local
 * queue's jobs and the Durable Objects' memory).
 */
function childEnv(wranglerLog, registry) {
  // No inspector proxy: it multiplies the Workers' CPU per request (lib/process-group.mjs).
  const env = withoutInspectorProxy({
    ...process.env,
    WRANGLER_REGISTRY_PATH: registry,
    CI: "true", // no interactive prompts (migrations) and no interactive dev session
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG: wranglerLog,
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });
  // Nothing from the caller's environment or a .env file may leak settings into the Workers.
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_ENV;
  delete env.NODE_OPTIONS;
  return env;
}

function devCommand(config, port, inspectorPort, persistTo, emptyEnv, vars) {
  return [
    process.execPath,
    WRANGLER,
    "dev",
    "-c",
    config,
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    // An empty env file: wrangler then reads neither .dev.vars nor .env, every setting is below.
    "--env-file",
    emptyEnv,
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
}

/** Polls `url` until it answers 200 (see waitReady); never settles once the demo is stopping. */
function serverReady(server, url, deadline) {
  return waitReady(server, {
    url,
    logFile: server.logFile,
    deadline,
    name: `${server.name}: wrangler dev`,
    intervalMs: 200,
    onPoll: () => (stopping ? new Promise(() => {}) : undefined),
  });
}

async function startServers() {
  if (!existsSync(WRANGLER)) throw new Error(`wrangler is not installed in ${ROOT}: run npm install first`);
  sweepStaleDirs(DIR_PREFIX);
  tmp = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  mkdirSync(OUT, { recursive: true });
  const emptyEnv = join(tmp, "empty.env");
  writeFileSync(emptyEnv, "");
  let gwPort = PORT;
  if (gwPort === undefined) gwPort = (await portFree(8787)) ? 8787 : await freePort();
  else if (!(await portFree(gwPort))) throw new Error(`port ${gwPort} is in use (--port)`);
  const [simPort, simInspector, gwInspector] = [await freePort(), await freePort(), await freePort()];
  // Sends (gateway → simulator) and webhooks (simulator → gateway) go through relays in this
  // process unless --direct: see scripts/demo/relay.mjs for the wrangler dev issue they avoid.
  let graphPort = simPort;
  let hookPort = gwPort;
  if (!opts.direct) {
    const graphRelay = await startRelay(simPort, {
      count: (method, path) => method === "POST" && /\/(marketing_)?messages(\?|$)/.test(path),
    });
    sendTally = graphRelay.tally;
    const hookRelay = await startRelay(gwPort, { retryDropped: true });
    relays.push(graphRelay, hookRelay);
    graphPort = graphRelay.port;
    hookPort = hookRelay.port;
  }
  const logs = {
    sim: join(OUT, "sim.log"),
    migrations: join(OUT, "migrations.log"),
    gateway: join(OUT, "gateway.log"),
  };
  for (const f of Object.values(logs)) writeFileSync(f, "");
  const deadline = Date.now() + 180_000;

  // The simulator first (it needs no migrations), the gateway's migrations meanwhile.
  const sim = {
    name: "simulator",
    logFile: logs.sim,
    ...supervise(
      devCommand("sim/wrangler.toml", simPort, simInspector, join(tmp, "sim"), emptyEnv, {
        SIM_SEED: "demo",
        SIM_AUTO_WEBHOOKS: "",
        SIM_GATEWAY_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/webhooks/meta`,
        SIM_ACCESS_TOKEN: META_TOKEN,
        SIM_APP_SECRET: APP_SECRET,
      }),
      { cwd: ROOT, env: childEnv("warn", join(tmp, "registry-sim")), logFile: logs.sim },
    ),
  };
  servers.push(sim);
  recordGroups(tmp, servers);
  const gwState = join(tmp, "gateway");
  await runToEnd(
    [
      process.execPath,
      WRANGLER,
      "d1",
      "migrations",
      "apply",
      "DB",
      "--local",
      "-c",
      "wrangler.toml",
      "--persist-to",
      gwState,
    ],
    {
      cwd: ROOT,
      env: childEnv("log", join(tmp, "registry-gateway")),
      logFile: logs.migrations,
      timeoutMs: 120_000,
    },
  );
  const gateway = {
    name: "gateway",
    logFile: logs.gateway,
    ...supervise(
      devCommand("wrangler.toml", gwPort, gwInspector, gwState, emptyEnv, {
        META_GRAPH_URL: `http://127.0.0.1:${graphPort}/v25.0`,
        META_ACCESS_TOKEN: META_TOKEN,
        META_APP_SECRET: APP_SECRET,
        META_VERIFY_TOKEN: VERIFY_TOKEN,
        ADMIN_TOKEN,
        // Local workerd has no six-connection limit per invocation (Cloudflare does), and the local
        // simulator answers through wrangler's proxies, slower than its real work: without this the
        // demo's throughput would be 6 / (that latency), not the bot's cap.
        MAX_SENDS_IN_FLIGHT: String(LOCAL_SENDS_IN_FLIGHT),
        // The arrival jitter pacing absorbs: here the path to the simulator crosses wrangler's
        // proxies and a relay on one busy machine, whose stalls bunch sends by more than the
        // production allowance of 25 ms; 50 ms keeps every second under the cap (95 % of it used).
        PACING_JITTER_MS: String(LOCAL_PACING_JITTER_MS),
      }),
      { cwd: ROOT, env: childEnv("log", join(tmp, "registry-gateway")), logFile: logs.gateway },
    ),
  };
  servers.push(gateway);
  recordGroups(tmp, servers);
  const simUrl = `http://127.0.0.1:${simPort}`;
  const gwUrl = `http://127.0.0.1:${gwPort}`;
  await Promise.all([
    serverReady(sim, `${simUrl}/_sim/stats`, deadline),
    serverReady(gateway, `${gwUrl}/healthz`, deadline),
  ]);
  return { simUrl, gwUrl, gwPort, simPort, logs };
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * One HTTP call. Requests that are safe to repeat (GET, PUT, and POSTs carrying an
 * Idempotency-Key) are retried a few times when the connection fails or wrangler's dev proxy
 * answers 503 "Your worker restarted mid-request": the local dev proxy drops a request now and
 * then under load (cloudflare/workers-sdk#14641), which says nothing about the gateway.
 */
async function call(method, url, { auth, json, body, headers = {}, expect } = {}) {
  const h = { ...headers };
  if (auth) h.authorization = auth;
  if (json !== undefined) h["content-type"] = "application/json";
  const retriable = method === "GET" || method === "PUT" || h["idempotency-key"] !== undefined;
  for (let attempt = 1; ; attempt++) {
    let res;
    let text;
    try {
      res = await fetch(url, {
        method,
        headers: h,
        body: json !== undefined ? JSON.stringify(json) : body,
        signal: AbortSignal.timeout(60_000),
      });
      text = await res.text();
    } catch (err) {
      if (retriable && attempt < 5 && !stopping) {
        await sleep(250 * 2 ** attempt);
        continue;
      }
      throw new Error(`${method} ${new URL(url).pathname}: ${err?.cause?.message ?? err?.message ?? err}`);
    }
    if (retriable && attempt < 5 && res.status === 503 && text.includes("restarted mid-request")) {
      await sleep(250 * 2 ** attempt);
      continue;
    }
    let data;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = text;
    }
    if (expect && !expect.includes(res.status)) {
      throw new Error(`${method} ${new URL(url).pathname} → HTTP ${res.status}: ${text.slice(0, 500)}`);
    }
    return { status: res.status, data, text };
  }
}

// ---------------------------------------------------------------------------------------------
// The demo

async function main() {
  const csvBytes = readFileSync(CSV);
  const csvRows =
    csvBytes
      .toString("utf8")
      .split(/\r?\n/)
      .filter((l) => l.length > 0).length - 1;
  console.log(
    `${bold("mmlite-gateway demo")}: a ${int(csvRows)}-row campaign through MM Lite, paced at ${RATE}/s`,
  );
  if (ROOT !== REPO) info(dim(`Workers built from ${ROOT} (MMLITE_DEMO_ROOT)`));

  step(1, "Starting the Meta simulator and the gateway (fresh local state, D1 migrated first)…");
  const t0 = Date.now();
  const { simUrl, gwUrl, gwPort, logs } = await startServers();
  info(
    `gateway    ${cyan(`http://localhost:${gwPort}`)}   ${dim(`(wrangler dev, log ${relative(process.cwd(), logs.gateway)})`)}`,
  );
  info(`simulator  ${cyan(simUrl)}   ${dim(`(wrangler dev, log ${relative(process.cwd(), logs.sim)})`)}`);
  info(green(`ready in ${secs(Date.now() - t0)}`));

  const admin = `Bearer ${ADMIN_TOKEN}`;

  step(2, "Meta side: the business's WABA, as the simulator seeds it");
  const waba = (await call("GET", `${simUrl}/_sim/wabas/${WABA}`, { expect: [200] })).data;
  // Meta's high-throughput tier: the simulator refuses only above 1,000/s, so what it measures per
  // second is the gateway's own pacing against the bot's cap, not a limit the simulator enforced.
  await call("PUT", `${simUrl}/_sim/numbers/${PHONE}`, { json: { throughputMps: META_MPS }, expect: [200] });
  const hooks = {
    enabled: true,
    deliveredRate: DELIVERED,
    readRate: READ,
    failedRate: FAILED,
    failCode: FAIL_CODE,
    delayMs: HOOK_DELAY,
    batch: HOOK_BATCH,
    seed: 2026,
  };
  await call("PUT", `${simUrl}/_sim/auto-webhooks`, { json: hooks, expect: [200] });
  info(`WABA ${WABA} "${waba.name}": MM Lite onboarding ${bold(waba.onboardingStatus)}`);
  info(
    `number ${PHONE}: Meta's high-throughput tier, ${int(META_MPS)} messages/s (more in any second → error 130429)`,
  );
  info(
    `status webhooks on: each accepted message gets "sent", then failed ${pct(FAILED, 0)} (code ${FAIL_CODE}), ` +
      `else delivered ${pct(DELIVERED, 0)}, of those read ${pct(READ, 0)}; ${HOOK_DELAY} ms apart, ` +
      `up to ${HOOK_BATCH} statuses per signed POST`,
  );

  step(3, "Registering the bot at the gateway (operator API)");
  const bot = (
    await call("POST", `${gwUrl}/admin/bots`, {
      auth: admin,
      json: {
        name: "Demo Store",
        wabaId: WABA,
        phoneNumberId: PHONE,
        businessId: BUSINESS,
        throughputMps: RATE,
      },
      expect: [201],
    })
  ).data;
  const key = `Key ${bot.apiKey}`;
  info(`bot ${bot.id} "${bot.name}", throughput cap ${bot.throughputMps}/s, API key ${dim(bot.apiKey)}`);
  const before = (await call("GET", `${gwUrl}/v1/mm-lite/status`, { auth: key, expect: [200] })).data;
  info(
    `MM Lite status: ${bold(before.state)} (Meta says ${before.onboardingStatus ?? "?"}), ` +
      "so marketing would go through the Cloud API; the gateway caches that answer for 5 min",
  );

  step(4, "The business signs the MM Lite terms at Meta");
  const ev = (
    await call("POST", `${simUrl}/_sim/webhooks/emit-event`, {
      json: { kind: "mm_lite_terms_signed", wabaId: WABA },
      expect: [200],
    })
  ).data;
  const posted = ev.posted?.[0] ?? {};
  const took = posted.status !== undefined && posted.status < 300;
  info(
    `simulator: WABA → ONBOARDED, signed webhook account_update MM_LITE_TERMS_SIGNED → gateway answered ` +
      (took
        ? green(`HTTP ${posted.status}`)
        : red(posted.status ? `HTTP ${posted.status}` : `no answer (${posted.error ?? "?"})`)),
  );
  let after = before;
  const tSigned = Date.now();
  while (Date.now() - tSigned < 15_000) {
    after = (await call("GET", `${gwUrl}/v1/mm-lite/status`, { auth: key, expect: [200] })).data;
    if (after.state === "active") break;
    await sleep(300);
  }
  if (after.state === "active") {
    info(
      `gateway dropped its cached status and asked Meta again: MM Lite ${green(bold("active"))} ` +
        `(${after.onboardingStatus}) ${secs(Date.now() - tSigned)} after the webhook`,
    );
  } else {
    problem(
      `MM Lite status still ${after.state} (${after.onboardingStatus}) 15 s after the webhook: the gateway did not ` +
        "act on MM_LITE_TERMS_SIGNED, so the campaign goes through the Cloud API until its cache expires",
    );
  }

  step(
    5,
    `Campaign "${CAMPAIGN_NAME}" from ${relative(process.cwd(), CSV)} (template ${TEMPLATE.name} ${TEMPLATE.language})`,
  );
  const q = new URLSearchParams({
    name: CAMPAIGN_NAME,
    template: TEMPLATE.name,
    language: TEMPLATE.language,
  });
  const tPost = Date.now();
  const created = (
    await call("POST", `${gwUrl}/v1/campaigns?${q}`, {
      auth: key,
      body: csvBytes,
      headers: { "content-type": "text/csv", "idempotency-key": `demo-${Date.now()}` },
      expect: [202],
    })
  ).data;
  const routeText = `${created.route} (${created.routeReason})`;
  info(
    `${created.id}: ${bold(int(created.total))} recipients, ${int(created.invalid)} invalid rows kept aside, ` +
      `${int(created.duplicates)} duplicates dropped; route ${
        created.routeReason === "mm_lite_activated" ? green(bold(routeText)) : yellow(bold(routeText))
      }`,
  );
  if (created.routeReason !== "mm_lite_activated")
    problem(`the campaign's route is ${routeText}, not mm_lite (mm_lite_activated)`);
  for (const r of created.invalidRows ?? [])
    info(dim(`  line ${r.row}: ${JSON.stringify(r.value)} ${r.reason}`));

  step(6, `Sending, paced by the gateway at the bot's cap (${RATE}/s)`);
  info(
    dim(
      "bar: the campaign's count (GET /v1/campaigns/{id})" +
        (sendTally ? "; on the wire: sends that reached Meta in the last second" : ""),
    ),
  );
  const total = created.total;
  const samples = []; // [ms, done]
  let campaign;
  // No fixed deadline (a busy machine sends slower than the cap): give up only when nothing moves.
  const STALL_MS = 120_000;
  let lastSeen = "";
  let lastMove = Date.now();
  for (;;) {
    campaign = (await call("GET", `${gwUrl}/v1/campaigns/${created.id}`, { auth: key, expect: [200] })).data;
    const now = Date.now();
    const done = total - campaign.counts.queued;
    const arrivals = sendTally?.arrivals;
    const moveKey = `${done}/${arrivals?.length}`;
    if (moveKey !== lastSeen) {
      lastSeen = moveKey;
      lastMove = now;
    }
    samples.push([now, done]);
    while (samples.length > 2 && now - samples[1][0] >= 2000) samples.shift();
    const [t1, d1] = samples[0];
    const rate = now > t1 ? ((done - d1) * 1000) / (now - t1) : 0;
    const finished = campaign.status !== "sending";
    const onWire = arrivals ? `  on the wire ${perSec(countSince(arrivals, now - 1000)).padStart(7)}` : "";
    liveLine(
      `${bar(done, total)} ${int(done).padStart(int(total).length)}/${int(total)}  ` +
        `${finished ? "done" : `${perSec(rate).padStart(7)}${onWire}`}  cap ${RATE}/s  ${secs(now - tPost).padStart(7)}`,
      finished,
    );
    if (finished) break;
    if (now - lastMove > STALL_MS)
      throw new Error(
        `campaign still ${campaign.status}: ${campaign.counts.queued} queued and no progress for ${secs(STALL_MS)}`,
      );
    await sleep(200);
  }
  endLine();
  const wire = sendTally?.arrivals ?? [];
  if (wire.length > 1) {
    const span = wire[wire.length - 1] - wire[0];
    info(
      `${campaign.status}: ${int(campaign.funnel.accepted)} accepted by Meta; the sends left over ${secs(span)}, ` +
        `${bold(perSec(((wire.length - 1) * 1000) / span))} on average (cap ${RATE}/s), the first ` +
        `${secs(wire[0] - tPost)} after the upload`,
    );
  } else {
    info(`${campaign.status}: ${int(campaign.funnel.accepted)} accepted by Meta`);
  }

  step(7, "Meta's status webhooks: delivered / read / failed");
  // A message's next status comes `delayMs` after its previous one: quiet for longer = done.
  const stableFor = Math.max(2500, HOOK_DELAY + 2000);
  let lastKey = "";
  let lastChange = Date.now();
  const settleDeadline = Date.now() + 600_000;
  let settled = false;
  let stats;
  for (;;) {
    campaign = (await call("GET", `${gwUrl}/v1/campaigns/${created.id}`, { auth: key, expect: [200] })).data;
    stats = (await call("GET", `${simUrl}/_sim/stats`, { expect: [200] })).data;
    const c = campaign.counts;
    const f = campaign.funnel;
    const keyNow = JSON.stringify([c, f, stats.webhooks]);
    const now = Date.now();
    if (keyNow !== lastKey) {
      lastKey = keyNow;
      lastChange = now;
    }
    liveLine(
      `webhooks received ${int(stats.webhooks.posted)}  →  sent ${int(f.sent)}  delivered ${int(f.delivered)}  ` +
        `read ${int(f.read)}  failed ${int(c.failed)}  ${dim(`(awaiting a first status: ${int(c.accepted)})`)}`,
    );
    if (c.accepted === 0 && c.queued === 0 && now - lastChange >= stableFor) {
      settled = true;
      break;
    }
    if (now - lastChange >= Math.max(20_000, 3 * HOOK_DELAY + 10_000) || now > settleDeadline) break;
    await sleep(400);
  }
  endLine();
  if (settled) info(green(`settled: no change for ${secs(stableFor)}`));
  else
    problem(
      `not settled: ${int(campaign.counts.accepted)} messages never got a status webhook ` +
        `(simulator: ${int(stats.webhooks.posted)} webhooks taken, ${int(stats.webhooks.failed)} refused or unanswered; ` +
        `see ${relative(process.cwd(), logs.sim)})`,
    );

  step(8, "Performance details (GET /v1/campaigns/{id})");
  printPerformance(campaign);
  const isUnknown = (e) => e.code === null && /outcome unknown/i.test(e.title ?? "");
  for (const e of campaign.errors ?? []) {
    if (e.code !== FAIL_CODE && !isUnknown(e))
      problem(`${int(e.count)} recipient(s) failed with ${e.code ?? "no code"}: ${e.title}`);
  }
  const unknown = (campaign.errors ?? []).filter(isUnknown).reduce((n, e) => n + e.count, 0);

  step(9, "Pacing as Meta saw it (the simulator's own measurements)");
  const line = stats.numbers?.[PHONE] ?? {};
  const msgs = (
    await call("GET", `${simUrl}/_sim/messages?phoneNumberId=${PHONE}&limit=100000`, { expect: [200] })
  ).data.messages;
  const times = msgs.map((m) => Date.parse(m.at)).sort((a, b) => a - b);
  const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
  const products = {};
  for (const m of msgs) products[m.product] = (products[m.product] ?? 0) + 1;
  const sendsTotal = Object.values(stats.sends ?? {}).reduce((n, s) => n + (s.total ?? 0), 0);
  writeFileSync(join(OUT, "sim-stats.json"), `${JSON.stringify(stats, null, 2)}\n`);
  writeFileSync(join(OUT, "campaign.json"), `${JSON.stringify(campaign, null, 2)}\n`);
  // When each send reached the relay in front of the simulator (epoch ms), for a closer look at pacing.
  if (sendTally) writeFileSync(join(OUT, "send-arrivals.txt"), `${sendTally.arrivals.join("\n")}\n`);
  const wireMax = sendTally ? maxInAnySecond([...sendTally.arrivals].sort((x, y) => x - y)) : undefined;
  // Pacing is judged where Meta would count: on the wire in front of the simulator (the relay, plain
  // Node). The simulator's own stamps are taken behind wrangler's dev proxy, a second workerd
  // process on the same machine that holds requests during stalls and hands them on together, so
  // they are shown but not the verdict (with --direct there is no relay and they are all there is).
  const judged = wireMax ?? line.maxInAnySecond ?? 0;
  const paceOk = judged <= RATE && (line.throttled ?? 0) === 0;
  const mark = paceOk ? green("✓") : red("✗");
  table(
    ["measured at the simulator", "value"],
    [
      ...(wireMax === undefined
        ? []
        : [
            [
              "max in any 1-second window on the wire",
              `${int(wireMax)} (bot's cap ${RATE}/s) ${mark}  as the sends reached the relay in front of it`,
            ],
          ]),
      [
        "max arrivals in any 1-second window",
        wireMax === undefined
          ? `${int(line.maxInAnySecond)} (bot's cap ${RATE}/s) ${mark}`
          : `${int(line.maxInAnySecond)} as stamped by the simulator behind wrangler's dev proxy`,
      ],
      [
        "refused for throughput (130429)",
        `${int(line.throttled ?? stats.throttled)} (number's limit ${int(META_MPS)}/s)`,
      ],
      ["send requests received", int(sendsTotal)],
      [
        "accepted",
        `${int(line.accepted)} (${Object.entries(products)
          .map(([p, n]) => `${p} ${int(n)}`)
          .join(", ")})`,
      ],
      [
        "first → last arrival",
        `${secs(span)} → ${perSec(span > 0 ? ((times.length - 1) * 1000) / span : Number.NaN)} average`,
      ],
      ["WABA status queries", int(stats.statusQueries?.total)],
      ["status webhooks posted / refused", `${int(stats.webhooks.posted)} / ${int(stats.webhooks.failed)}`],
    ],
    ["l", "l"],
  );

  if (unknown > 0) {
    // Accepted at the simulator but not at the gateway: sends whose answer was lost on the way back.
    const answerLost = Math.max(0, (line.accepted ?? 0) - campaign.funnel.accepted);
    problem(
      `${int(unknown)} send(s) got no answer, so the gateway recorded them as outcome unknown and, as designed, ` +
        "did not send them again. " +
        (answerLost === 0
          ? `None reached the simulator's Worker (it received ${int(sendsTotal)} sends, all recorded by the ` +
            "gateway): wrangler dev's local proxy dropped them, a known wrangler issue under load " +
            "(cloudflare/workers-sdk#14641)."
          : `The simulator accepted ${int(answerLost)} of them (the recipients got the message) but the answer was ` +
            "lost on the way back to the gateway."),
    );
  }
  if ((stats.webhooks?.failed ?? 0) > 0) {
    const why = [
      ...readFileSync(logs.sim, "utf8").matchAll(/webhook POSTs to \S+ failed \(last ([^)]*)\)/g),
    ].pop()?.[1];
    problem(
      `${int(stats.webhooks.failed)} status webhook POST(s) were not taken by the gateway` +
        `${why ? ` (last answer: ${why.trim()})` : ""}; Meta would retry them, the simulator does not, so ` +
        "those statuses are missing from the funnel",
    );
  }
  if (!paceOk) {
    problem(
      `pacing: ${int(judged)} sends in one second ${wireMax === undefined ? "at the simulator" : "on the wire"} ` +
        `(cap ${RATE}/s), ${int(line.throttled)} refused with 130429 (a busy machine stalls either side and ` +
        "bunches the stamps)",
    );
  }

  step(10, "Report and portal");
  const reportFile = join(OUT, "report.csv");
  const report = await call("GET", `${gwUrl}/v1/campaigns/${created.id}/report.csv`, {
    auth: key,
    expect: [200],
  });
  writeFileSync(reportFile, report.text);
  const reportLines = readFileSync(reportFile, "utf8")
    .split("\r\n")
    .filter((l) => l.length > 0);
  info(
    `report  ${cyan(relative(process.cwd(), reportFile))}  (${int(reportLines.length - 1)} recipients, invalid ones included)`,
  );
  info(dim(`        ${reportLines[0]}`));
  if (reportLines[1]) info(dim(`        ${reportLines[1]}`));
  info(`portal  ${cyan(`http://localhost:${gwPort}/portal`)}  (API key ${bot.apiKey})`);
  info(`docs    ${cyan(`http://localhost:${gwPort}/docs`)}`);

  return { gwPort, simUrl, logs, campaignId: created.id, key: bot.apiKey };
}

/** How many of the ascending `times` are at or after `from`. */
function countSince(times, from) {
  let n = 0;
  for (let i = times.length - 1; i >= 0 && times[i] >= from; i--) n++;
  return n;
}

/** The most of the ascending `times` (ms) that fall in any one-second window. */
function maxInAnySecond(times) {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

function printPerformance(c) {
  info(
    `${bold(c.id)} "${c.name}" — ${c.status === "completed" ? green(c.status) : yellow(c.status)}, ` +
      `template ${c.template.name} ${c.template.language} ${c.template.category}`,
  );
  info(`route ${bold(c.route)}, reason ${bold(c.routeReason)}; ${int(c.total)} recipients`);
  console.log();
  const k = c.counts;
  table(
    ["status now", "recipients", "share"],
    ["queued", "accepted", "sent", "delivered", "read", "failed", "cancelled", "invalid"].map((s) => [
      s,
      int(k[s]),
      s === "invalid" ? "" : pct(c.total ? k[s] / c.total : 0),
    ]),
    ["l", "r", "r"],
  );
  console.log();
  const f = c.funnel;
  table(
    ["funnel", "reached", "rate"],
    [
      ["accepted", int(f.accepted), ""],
      ["sent", int(f.sent), ""],
      ["delivered", int(f.delivered), `delivery ${pct(c.rates.delivery)} (of accepted)`],
      ["read", int(f.read), `read ${pct(c.rates.read)} (of delivered)`],
      ["failed", int(k.failed), `failure ${pct(c.rates.failure)} (of total)`],
    ],
    ["l", "r", "l"],
  );
  console.log();
  table(
    ["confirmed route (pricing webhooks)", "recipients"],
    Object.entries(c.confirmedRoutes ?? {}).map(([r, n]) => [r, int(n)]),
    ["l", "r"],
  );
  console.log();
  if ((c.errors ?? []).length > 0) {
    table(
      ["top errors", "title", "recipients"],
      c.errors.map((e) => [e.code === null ? "–" : String(e.code), e.title ?? "", int(e.count)]),
      ["l", "l", "r"],
    );
  } else info("no errors");
}

try {
  const r = await main();
  if (stopping) await new Promise(() => {});
  if (opts.keep) {
    console.log(
      `\n${bold("Still running")} (--keep). Gateway ${cyan(`http://localhost:${r.gwPort}`)}, simulator ${cyan(r.simUrl)}.`,
    );
    console.log(
      `  try: curl -s localhost:${r.gwPort}/v1/campaigns/${r.campaignId} -H 'Authorization: Key ${r.key}'\n` +
        `  logs: ${relative(process.cwd(), r.logs.gateway)}, ${relative(process.cwd(), r.logs.sim)}\n` +
        `  ${bold("Press Ctrl-C to stop both")} (state is temporary and removed then).`,
    );
    // The servers' supervisors are unref'd (they must not keep a finished demo alive): hold the
    // event loop open until Ctrl-C or until one of them stops.
    const hold = setInterval(() => {}, 60_000);
    let gone;
    await Promise.race(servers.map((s) => s.exited.then(() => (gone = s.name))));
    clearInterval(hold);
    if (!stopping) {
      stopping = true;
      console.log(red(`\nThe ${gone} stopped on its own; stopping the rest.`));
      await shutdown();
      process.exit(1);
    }
    await new Promise(() => {});
  }
  console.log(`\nStopping the gateway and the simulator…`);
  stopping = true;
  await shutdown();
  const left = liveGroupIds().length;
  console.log(
    `${warnings.length === 0 ? green("Demo complete") : yellow(`Demo complete with ${warnings.length} warning(s)`)} ` +
      `in ${secs(Date.now() - started)}; ` +
      `${left === 0 ? "nothing left running, temporary state removed" : red(`${left} process group(s) still running`)}.`,
  );
  for (const w of warnings) console.log(`  ${yellow("!")} ${w}`);
  process.exit(left > 0 || (opts.strict && warnings.length > 0) ? 1 : 0);
} catch (err) {
  if (stopping) await new Promise(() => {});
  stopping = true;
  endLine();
  console.error(`\n${red("Demo failed:")} ${err instanceof Error ? err.message : err}`);
  await shutdown();
  process.exit(1);
}
