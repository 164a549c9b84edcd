/**
 * Runs the gateway alone under `wrangler dev`, the way acceptance checks do: local D1 migrated
 * first, META_GRAPH_URL pointing at an external fake, secrets given with `--var`.
 *
 * - Independent of `.dev.vars` (a fresh clone has none): `--env-file` names an empty file in the
 *   run's own temp dir, which makes wrangler skip `.dev.vars` and `.env` entirely.
 * - Fresh state per start: `--persist-to` a new temp dir (D1, KV, Durable Objects), removed on stop.
 * - Never leaves processes behind: wrangler runs in its own process group under a tiny supervisor
 *   that kills the group when the test process goes away (its stdin pipe closes), even on SIGKILL;
 *   `stop()` and a process `exit` hook kill the group too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";

/**
 * The gateway checkout to run: this repository, or `MMLITE_E2E_ROOT` (e.g. a clean export of a
 * commit while the working tree is being edited: `wrangler dev` rebuilds on every file change).
 */
export const ROOT = resolve(process.env.MMLITE_E2E_ROOT ?? resolve(import.meta.dirname, "../.."));

export interface GatewayOptions {
  /** META_GRAPH_URL, e.g. `http://127.0.0.1:PORT/v25.0`. */
  graphUrl: string;
  adminToken?: string;
  metaAccessToken?: string;
  appSecret?: string;
  verifyToken?: string;
  /** Further `--var NAME:VALUE` overrides. */
  vars?: Record<string, string>;
  /** Bound on startup (migrations + wrangler dev ready). Default 150 s. */
  startTimeoutMs?: number;
}

export interface Gateway {
  url: string;
  port: number;
  adminToken: string;
  metaAccessToken: string;
  appSecret: string;
  verifyToken: string;
  persistDir: string;
  /** wrangler's combined output so far (for diagnostics). */
  logs(): string;
  stop(): Promise<void>;
}

/** Process groups still running, killed on exit whatever happens. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // Already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * The supervisor: group leader of the wrangler process group. It starts the command in its own
 * group and, when its stdin closes (the test process exited or was killed), terminates the group.
 */
const SUPERVISOR = `
const { spawn } = require("node:child_process");
const [cmd, ...args] = JSON.parse(process.argv[1]);
const child = spawn(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
let ending = false;
function end(code) {
  if (ending) return;
  ending = true;
  try { process.kill(-process.pid, "SIGTERM"); } catch {}
  setTimeout(() => { try { process.kill(-process.pid, "SIGKILL"); } catch {} process.exit(code); }, 3000).unref();
}
process.on("SIGTERM", () => end(143));
process.stdin.on("end", () => end(0));
process.stdin.on("error", () => end(0));
process.stdin.resume();
child.on("exit", (code) => { if (!ending) { ending = true; process.exit(code ?? 1); } });
`;

interface Supervised {
  proc: ChildProcess;
  pgid: number;
  exited: Promise<number | null>;
}

function supervise(command: string[], logFile: string, env: NodeJS.ProcessEnv): Supervised {
  const fd = openSync(logFile, "a");
  const proc = spawn(process.execPath, ["-e", SUPERVISOR, JSON.stringify(command)], {
    cwd: ROOT,
    env,
    detached: true, // its own process group: the supervisor is the leader, wrangler and workerd inside
    stdio: ["pipe", fd, fd],
  });
  closeSync(fd);
  const pgid = proc.pid;
  if (pgid === undefined) throw new Error(`could not start ${command.join(" ")}`);
  liveGroups.add(pgid);
  const exited = new Promise<number | null>((done) => {
    proc.once("exit", (code) => done(code));
  });
  // The pipe must not keep the test process alive, and the supervisor watches its other end.
  proc.stdin?.on("error", () => {});
  (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  proc.unref();
  return { proc, pgid, exited };
}

async function stopGroup(s: Supervised, graceMs = 5000): Promise<void> {
  if (!groupAlive(s.pgid)) {
    liveGroups.delete(s.pgid);
    return;
  }
  killGroup(s.pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(s.pgid)) await sleep(100);
  if (groupAlive(s.pgid)) killGroup(s.pgid, "SIGKILL");
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && groupAlive(s.pgid)) await sleep(100);
  liveGroups.delete(s.pgid);
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: "true", // no interactive prompts (migrations), no interactive dev session
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG: "log",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
  // Neither process.env nor a .env file may leak settings into the Worker.
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_ENV;
  // vitest sets these in its workers; wrangler/esbuild must not think they are under test.
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  delete env.NODE_OPTIONS;
  return env;
}

function tail(file: string, chars = 6000): string {
  try {
    const text = readFileSync(file, "utf8");
    return text.length > chars ? `…${text.slice(-chars)}` : text;
  } catch {
    return "";
  }
}

async function run(
  command: string[],
  logFile: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<void> {
  const s = supervise(command, logFile, env);
  const timer = sleep(timeoutMs).then(() => "timeout" as const);
  const result = await Promise.race([s.exited, timer]);
  if (result === "timeout") {
    await stopGroup(s, 2000);
    throw new Error(`${command.join(" ")} timed out after ${timeoutMs} ms\n${tail(logFile)}`);
  }
  await stopGroup(s, 1000); // Anything it left in its group.
  if (result !== 0) throw new Error(`${command.join(" ")} exited with ${result}\n${tail(logFile)}`);
}

const DIR_PREFIX = "mmlite-e2e-";

/**
 * Temp dirs of earlier runs that were killed outright (SIGKILL leaves no chance to clean up): the
 * supervisor still ended their processes; their state is removed here once their group is gone.
 */
function sweepStaleDirs(): void {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      const age = now - statSync(dir).mtimeMs;
      if (age < 60_000) continue;
      const pgidFile = join(dir, "pgid");
      if (existsSync(pgidFile)) {
        const pgid = Number(readFileSync(pgidFile, "utf8"));
        if (Number.isInteger(pgid) && pgid > 0 && groupAlive(pgid)) continue;
      } else if (age < 15 * 60_000) {
        continue; // Killed while migrating, or still migrating: give it time.
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not ours, or already gone.
    }
  }
}

/** Migrates a fresh local D1 and starts `wrangler dev` for the gateway alone; resolves once /healthz answers. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  installExitHook();
  const startTimeoutMs = opts.startTimeoutMs ?? 150_000;
  const deadline = Date.now() + startTimeoutMs;
  sweepStaleDirs();
  const persistDir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const emptyEnvFile = join(persistDir, "empty.env");
  writeFileSync(emptyEnvFile, "");
  const logFile = join(persistDir, "wrangler.log");
  const env = childEnv();
  const adminToken = opts.adminToken ?? "e2e-admin-token-0123456789";
  const metaAccessToken = opts.metaAccessToken ?? "e2e-meta-token";
  const appSecret = opts.appSecret ?? "e2e-app-secret";
  const verifyToken = opts.verifyToken ?? "e2e-verify-token";

  let dev: Supervised | undefined;
  const cleanup = async () => {
    if (dev) await stopGroup(dev);
    // MMLITE_E2E_LOG_DIR keeps wrangler's output of each run there (diagnostics).
    const keep = process.env.MMLITE_E2E_LOG_DIR;
    if (keep && existsSync(logFile)) {
      mkdirSync(keep, { recursive: true });
      copyFileSync(logFile, join(keep, `wrangler-${basename(persistDir)}.log`));
    }
    rmSync(persistDir, { recursive: true, force: true });
  };

  try {
    await run(
      [
        "npx",
        "wrangler",
        "d1",
        "migrations",
        "apply",
        "DB",
        "--local",
        "-c",
        "wrangler.toml",
        "--persist-to",
        persistDir,
      ],
      logFile,
      env,
      Math.max(10_000, deadline - Date.now()),
    );

    const port = await freePort();
    const inspectorPort = await freePort();
    const vars: Record<string, string> = {
      META_GRAPH_URL: opts.graphUrl,
      ADMIN_TOKEN: adminToken,
      META_ACCESS_TOKEN: metaAccessToken,
      META_APP_SECRET: appSecret,
      META_VERIFY_TOKEN: verifyToken,
      ...opts.vars,
    };
    const command = [
      "npx",
      "wrangler",
      "dev",
      "-c",
      "wrangler.toml",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistDir,
      "--env-file",
      emptyEnvFile,
      "--show-interactive-dev-session=false",
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ];
    dev = supervise(command, logFile, env);
    writeFileSync(join(persistDir, "pgid"), String(dev.pgid));
    const url = `http://127.0.0.1:${port}`;
    let exitCode: number | null | undefined;
    void dev.exited.then((code) => {
      exitCode = code;
    });
    for (;;) {
      if (exitCode !== undefined) throw new Error(`wrangler dev exited with ${exitCode}\n${tail(logFile)}`);
      // A build error leaves wrangler waiting for a file change: fail now, with its message.
      if (tail(logFile, 20_000).includes("Build failed")) {
        throw new Error(`wrangler dev could not build the Worker\n${tail(logFile)}`);
      }
      if (Date.now() > deadline)
        throw new Error(`wrangler dev not ready after ${startTimeoutMs} ms\n${tail(logFile)}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) {
          await res.arrayBuffer();
          break;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(250);
    }

    let stopped = false;
    return {
      url,
      port,
      adminToken,
      metaAccessToken,
      appSecret,
      verifyToken,
      persistDir,
      logs: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
