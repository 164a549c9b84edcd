/**
 * Runs the gateway alone under `wrangler dev`, the way acceptance checks do: local D1 migrated
 * first, META_GRAPH_URL pointing at an external fake, secrets given with `--var`.
 *
 * - Independent of `.dev.vars` (a fresh clone has none): `--env-file` names an empty file in the
 *   run's own temp dir, which makes wrangler skip `.dev.vars` and `.env` entirely.
 * - Fresh state per start: `--persist-to` a new temp dir (D1, KV, Durable Objects), removed on stop.
 * - Never leaves processes behind: wrangler runs in its own process group under a tiny supervisor
 *   that kills the group when the test process goes away (its stdin pipe closes), even on SIGKILL;
 *   `stop()` and a process `exit` hook kill the group too (scripts/lib/process-group.mjs, shared
 *   with the bench and `npm run demo`).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import {
  freePort,
  recordGroups,
  runToEnd,
  type Supervised,
  stopGroup,
  supervise,
  sweepStaleDirs,
  waitReady,
  withoutInspectorProxy,
} from "../../scripts/lib/process-group.mjs";

export { freePort };

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

function childEnv(): NodeJS.ProcessEnv {
  // No inspector proxy: it multiplies the Worker's CPU per request (process-group.mjs).
  const env: NodeJS.ProcessEnv = withoutInspectorProxy({
    ...process.env,
    CI: "true", // no interactive prompts (migrations), no interactive dev session
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG: "log",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });
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

const DIR_PREFIX = "mmlite-e2e-";

/** Migrates a fresh local D1 and starts `wrangler dev` for the gateway alone; resolves once /healthz answers. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const startTimeoutMs = opts.startTimeoutMs ?? 150_000;
  const deadline = Date.now() + startTimeoutMs;
  sweepStaleDirs(DIR_PREFIX);
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
    await runToEnd(
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
      { cwd: ROOT, env, logFile, timeoutMs: Math.max(10_000, deadline - Date.now()) },
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
    dev = supervise(command, { cwd: ROOT, env, logFile });
    recordGroups(persistDir, [dev]);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(dev, { url: `${url}/healthz`, logFile, deadline });

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
