// Process hygiene for `npm run demo` (the same scheme as test/e2e/wrangler.ts, in plain Node):
// every `wrangler dev` runs in its own process group under a tiny supervisor that ends the group
// when the demo goes away (its stdin pipe closes), even after a SIGKILL; `stopGroup` and an `exit`
// hook end the group too. State lives in a fresh temp dir per run, removed at the end; temp dirs
// of runs that were killed outright are swept at the next start once nothing of theirs runs.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DIR_PREFIX = "mmlite-demo-";

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
process.on("SIGINT", () => end(130));
process.stdin.on("end", () => end(0));
process.stdin.on("error", () => end(0));
process.stdin.resume();
child.on("exit", (code) => { if (!ending) { ending = true; process.exit(code ?? 1); } });
`;

const liveGroups = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  });
}

export function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

export function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Process groups this demo started and that still run. */
export function liveGroupIds() {
  return [...liveGroups].filter(groupAlive);
}

/** Starts `command` in a new process group (its supervisor leads it), output appended to `logFile`. */
export function supervise(command, { cwd, env, logFile }) {
  installExitHook();
  const fd = openSync(logFile, "a");
  const proc = spawn(process.execPath, ["-e", SUPERVISOR, JSON.stringify(command)], {
    cwd,
    env,
    detached: true, // its own process group: Ctrl-C in the terminal reaches only the demo, which ends it
    stdio: ["pipe", fd, fd],
  });
  closeSync(fd);
  const pgid = proc.pid;
  if (pgid === undefined) throw new Error(`could not start ${command.join(" ")}`);
  liveGroups.add(pgid);
  const exited = new Promise((done) => proc.once("exit", (code) => done(code)));
  proc.stdin.on("error", () => {});
  proc.stdin.unref?.();
  proc.unref();
  return { pgid, exited };
}

/** SIGTERM to the group, SIGKILL after `graceMs`; resolves once nothing of it runs. */
export async function stopGroup(s, graceMs = 5000) {
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

/** Stops every group this process started (servers and a migration still running alike). */
export async function stopAll(graceMs = 5000) {
  await Promise.all([...liveGroups].map((pgid) => stopGroup({ pgid }, graceMs)));
}

/** Ends every group at once (second Ctrl-C). */
export function killAll() {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
}

/** Runs a command to completion in its own group; rejects with its output on failure or timeout. */
export async function runToEnd(command, { cwd, env, logFile, timeoutMs }) {
  const s = supervise(command, { cwd, env, logFile });
  let timer;
  const timeout = new Promise((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  const result = await Promise.race([s.exited, timeout]);
  clearTimeout(timer);
  await stopGroup(s, 1000);
  if (result === "timeout") throw new Error(`${command.slice(1).join(" ")} timed out\n${tail(logFile)}`);
  if (result !== 0) throw new Error(`${command.slice(1).join(" ")} exited with ${result}\n${tail(logFile)}`);
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether `port` can be listened on at 127.0.0.1 now. */
export function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

export function tail(file, chars = 4000) {
  try {
    const text = readFileSync(file, "utf8");
    return text.length > chars ? `…${text.slice(-chars)}` : text;
  } catch {
    return "";
  }
}

/** Temp dirs of demo runs killed outright, once their process groups are gone. */
export function sweepStaleDirs() {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      if (now - statSync(dir).mtimeMs < 60_000) continue;
      const pgidsFile = join(dir, "pgids");
      if (existsSync(pgidsFile)) {
        const pgids = readFileSync(pgidsFile, "utf8").split(/\s+/).filter(Boolean).map(Number);
        if (pgids.some((p) => Number.isInteger(p) && p > 0 && groupAlive(p))) continue;
      } else if (now - statSync(dir).mtimeMs < 15 * 60_000) {
        continue; // Starting up (or killed while starting): give it time.
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not ours, or already gone.
    }
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
