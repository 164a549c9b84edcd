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
 * The simulator is started the way the harness starts the gateway (scripts/lib/process-group.mjs):
 * in its own process group under a tiny supervisor that ends the group when the bench goes away
 * (its stdin pipe closes), even on SIGKILL; `stop()` and a process `exit` hook end it too. Each run
 * uses its own temp dirs.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  freePort,
  recordGroups,
  stopGroup,
  supervise,
  sweepStaleDirs,
  waitReady,
  withoutInspectorProxy,
} from "../scripts/lib/process-group.mjs";
import { listeningPorts, workerdPids } from "./procs";

export { sleep } from "../scripts/lib/process-group.mjs";

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
  // Bench temp dirs of runs that were killed outright (a bench runs well under an hour).
  sweepStaleDirs(DIR_PREFIX, { minAgeMs: 60 * 60_000 });
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
  /**
   * The simulator Worker's own socket in its runtime workerd (miniflare's entry), behind which there
   * is no further hop: wrangler's dev proxy (`port`) is a second workerd process that relays each
   * request and, on a busy machine, bunches them, so the simulator would count arrivals closer
   * together than they left the tap. Meta counts at its edge, so the Graph traffic goes here.
   * Null when it could not be found (then `port`).
   */
  directPort: number | null;
  pgid: number;
  logs(): string;
  stop(): Promise<void>;
}

export async function startSim(opts: SimOptions): Promise<Sim> {
  const persistDir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}sim-`));
  const emptyEnvFile = join(persistDir, "empty.env");
  writeFileSync(emptyEnvFile, ""); // sim/.dev.vars must not leak settings into the run.
  const logFile = join(persistDir, "wrangler.log");
  const env: NodeJS.ProcessEnv = withoutInspectorProxy({
    ...process.env,
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    // The simulator is not under test: no log line per request (its own warnings still show).
    WRANGLER_LOG: "warn",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });
  delete env.CLOUDFLARE_INCLUDE_PROCESS_ENV;
  delete env.CLOUDFLARE_ENV;
  delete env.NODE_OPTIONS;
  if (opts.registryPath) env.WRANGLER_REGISTRY_PATH = opts.registryPath;
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
  const dev = supervise(command, { cwd: opts.root, env, logFile });
  recordGroups(persistDir, [dev]);
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
  try {
    await waitReady(dev, { url: `${url}/_sim/stats`, logFile, deadline, name: "simulator wrangler dev" });
  } catch (err) {
    await stop();
    throw err;
  }
  const directPort = await findDirectPort(dev.pgid, opts.port);
  return { url, port: opts.port, directPort, pgid: dev.pgid, logs, stop };
}

/** The one port of the group's workerd processes, besides wrangler's, that serves the simulator. */
async function findDirectPort(pgid: number, proxyPort: number): Promise<number | null> {
  const found: number[] = [];
  for (const pid of workerdPids(pgid))
    for (const port of listeningPorts(pid)) {
      if (port === proxyPort) continue;
      const res = await fetch(`http://127.0.0.1:${port}/_sim/stats`, {
        signal: AbortSignal.timeout(5000),
      }).catch(() => null);
      if (res?.status === 200 && (res.headers.get("content-type") ?? "").includes("json")) found.push(port);
      await res?.body?.cancel();
    }
  return found.length === 1 ? (found[0] as number) : null;
}
