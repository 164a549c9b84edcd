/**
 * The bench's servers: the gateway through the e2e harness (`test/e2e/wrangler.ts`, imported, not
 * copied) and the Meta simulator as its own `wrangler dev -c sim/wrangler.toml` on a port of its
 * own, so its control API (`/_sim/...`) is reachable over HTTP and the two Workers talk over real
 * HTTP like production.
 *
 * The harness runs whatever checkout `MMLITE_E2E_ROOT` names (read when it is imported). The bench
 * points it at a snapshot of the sources taken at start (see `prepareRoot`): `wrangler dev`
 * rebuilds and restarts the Worker on every file change, and a restart in the middle of a run
 * would drop the local queue's pending jobs, while others keep editing the working tree.
 *
 * The simulator is started the way the harness starts the gateway: in its own process group under
 * a tiny supervisor that ends the group when the bench goes away (its stdin pipe closes), even on
 * SIGKILL; `stop()` and a process `exit` hook end it too. Each run uses its own temp dirs.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..");
const DIR_PREFIX = "mmlite-bench-";

export interface SourceInfo {
  /** Directory the Workers are built from. */
  root: string;
  /** What it is, for the report. */
  description: string;
  cleanup(): void;
}

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }).trim();
}

/**
 * `source`:
 *  - `worktree` (default): a copy of the working tree as it is now (tracked and untracked files,
 *    git-ignored ones left out), with `node_modules` linked;
 *  - `live`: the working tree itself (edits made during the run restart the Workers);
 *  - any git ref (`HEAD`, a sha): that commit, exported with `git archive`.
 */
export function prepareRoot(source: string): SourceInfo {
  sweepStaleDirs();
  let head = "unknown";
  try {
    head = git(["rev-parse", "--short", "HEAD"]);
  } catch {
    // Not a git checkout: fine for `live`.
  }
  if (source === "live") {
    return { root: REPO, description: `live working tree (HEAD ${head} + uncommitted edits)`, cleanup() {} };
  }
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}src-`));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    let description: string;
    if (source === "worktree") {
      const files = git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .split("\0")
        .filter((f) => f.length > 0 && !f.startsWith("bench/"));
      for (const f of files) {
        const from = join(REPO, f);
        if (!existsSync(from)) continue; // Deleted but not yet staged.
        const to = join(dir, f);
        mkdirSync(dirname(to), { recursive: true });
        cpSync(from, to);
      }
      const dirty = git(["status", "--porcelain", "--untracked-files=all", "--", ".", ":!bench"]);
      const changed = dirty ? dirty.split("\n").length : 0;
      description = `snapshot of the working tree at start: HEAD ${head}${changed ? ` + ${changed} uncommitted file(s) outside bench/` : " (clean)"}`;
    } else {
      const sha = git(["rev-parse", "--short", source]);
      execFileSync("sh", ["-c", `git archive ${sha} | tar -x -C '${dir}'`], { cwd: REPO });
      description = `git archive of ${source} (${sha})`;
    }
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
    return { root: dir, description, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Process groups (the simulator's; the gateway's belongs to the harness)

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

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

function supervise(command: string[], cwd: string, logFile: string, env: NodeJS.ProcessEnv): Supervised {
  installExitHook();
  const fd = openSync(logFile, "a");
  const proc = spawn(process.execPath, ["-e", SUPERVISOR, JSON.stringify(command)], {
    cwd,
    env,
    detached: true,
    stdio: ["pipe", fd, fd],
  });
  closeSync(fd);
  const pgid = proc.pid;
  if (pgid === undefined) throw new Error(`could not start ${command.join(" ")}`);
  liveGroups.add(pgid);
  const exited = new Promise<number | null>((done) => proc.once("exit", (code) => done(code)));
  proc.stdin?.on("error", () => {});
  (proc.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  proc.unref();
  return { proc, pgid, exited };
}

async function stopGroup(s: Supervised, graceMs = 5000): Promise<void> {
  if (groupAlive(s.pgid)) {
    killGroup(s.pgid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && groupAlive(s.pgid)) await sleep(100);
    if (groupAlive(s.pgid)) killGroup(s.pgid, "SIGKILL");
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && groupAlive(s.pgid)) await sleep(100);
  }
  liveGroups.delete(s.pgid);
}

/** Bench temp dirs of runs that were killed outright, once nothing of theirs runs any more. */
function sweepStaleDirs(): void {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      const age = now - statSync(dir).mtimeMs;
      if (age < 60 * 60_000) continue; // A bench runs well under an hour.
      const pgidFile = join(dir, "pgid");
      if (existsSync(pgidFile)) {
        const pgid = Number(readFileSync(pgidFile, "utf8"));
        if (Number.isInteger(pgid) && pgid > 0 && groupAlive(pgid)) continue;
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not ours, or already gone.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The simulator

export interface SimOptions {
  root: string;
  port: number;
  gatewayWebhookUrl: string;
  accessToken: string;
  appSecret: string;
  /** WRANGLER_REGISTRY_PATH for this wrangler (a private dev registry). */
  registryPath?: string;
  startTimeoutMs?: number;
}

export interface Sim {
  url: string;
  port: number;
  pgid: number;
  logs(): string;
  stop(): Promise<void>;
}

export async function startSim(opts: SimOptions): Promise<Sim> {
  const persistDir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}sim-`));
  const emptyEnvFile = join(persistDir, "empty.env");
  writeFileSync(emptyEnvFile, ""); // sim/.dev.vars must not leak settings into the run.
  const logFile = join(persistDir, "wrangler.log");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    // The simulator is not under test: no log line per request (its own warnings still show).
    WRANGLER_LOG: "warn",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_ENV;
  delete env.NODE_OPTIONS;
  if (opts.registryPath) env.WRANGLER_REGISTRY_PATH = opts.registryPath;
  const { freePort } = await import("../test/e2e/wrangler.ts");
  const inspectorPort = await freePort();
  const vars: Record<string, string> = {
    SIM_SEED: "",
    SIM_AUTO_WEBHOOKS: "",
    SIM_GATEWAY_WEBHOOK_URL: opts.gatewayWebhookUrl,
    SIM_ACCESS_TOKEN: opts.accessToken,
    SIM_APP_SECRET: opts.appSecret,
  };
  const command = [
    "npx",
    "wrangler",
    "dev",
    "-c",
    "sim/wrangler.toml",
    "--port",
    String(opts.port),
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
  const dev = supervise(command, opts.root, logFile, env);
  writeFileSync(join(persistDir, "pgid"), String(dev.pgid));
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopGroup(dev);
    const keep = process.env.MMLITE_E2E_LOG_DIR;
    if (keep && existsSync(logFile)) {
      mkdirSync(keep, { recursive: true });
      cpSync(logFile, join(keep, `sim-${Date.now()}.log`));
    }
    rmSync(persistDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 120_000);
  let exitCode: number | null | undefined;
  void dev.exited.then((code) => {
    exitCode = code;
  });
  try {
    for (;;) {
      if (exitCode !== undefined)
        throw new Error(`simulator wrangler dev exited with ${exitCode}\n${logs().slice(-4000)}`);
      if (logs().includes("Build failed"))
        throw new Error(`simulator could not build\n${logs().slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`simulator not ready in time\n${logs().slice(-4000)}`);
      try {
        const res = await fetch(`${url}/_sim/stats`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch {
        // Not listening yet.
      }
      await sleep(250);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port: opts.port, pgid: dev.pgid, logs, stop };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
