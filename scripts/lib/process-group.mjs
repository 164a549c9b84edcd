// Process hygiene for local `wrangler dev` runs, shared by the e2e harness (test/e2e/wrangler.ts),
// the bench (bench/servers.ts) and `npm run demo` (scripts/demo.mjs). Plain Node ESM, built-ins only,
// because the demo runs under plain `node`; the types are in process-group.d.mts.
//
// - Every command runs in its own process group, led by a tiny supervisor that ends the group when
//   the parent goes away (its stdin pipe closes), even after a SIGKILL of the parent.
// - `stopGroup`: SIGTERM to the group, SIGKILL after a grace. An `exit` hook SIGKILLs whatever
//   group is still running when the parent exits.
// - State lives in fresh temp dirs with a caller's prefix; `recordGroups` notes which groups use a
//   dir and `sweepStaleDirs` removes dirs of runs killed outright once none of their groups runs.
//
// The callers keep their specifics: commands and their arguments, env, readiness URL, log files.
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The supervisor: leader of the new process group. It starts the command inside the group and,
 * when its stdin closes (the parent exited or was killed) or it gets SIGTERM / SIGINT, terminates
 * the group (SIGTERM, then SIGKILL after 3 s). When the command exits by itself, so does it.
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
process.on("SIGINT", () => end(130));
process.stdin.on("end", () => end(0));
process.stdin.on("error", () => end(0));
process.stdin.resume();
child.on("exit", (code) => { if (!ending) { ending = true; process.exit(code ?? 1); } });
`;

/** Process groups this process started that may still run; SIGKILLed on exit whatever happens. */
const liveGroups = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => killAll());
}

export function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // Already gone.
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

export function liveGroupIds() {
  return [...liveGroups].filter(groupAlive);
}

export function supervise(command, { cwd, env, logFile }) {
  installExitHook();
  const fd = openSync(logFile, "a");
  const proc = spawn(process.execPath, ["-e", SUPERVISOR, JSON.stringify(command)], {
    cwd,
    env,
    // Its own process group (the supervisor leads it, the command and its children inside): a
    // Ctrl-C in the terminal reaches only the parent, which ends the group.
    detached: true,
    stdio: ["pipe", fd, fd],
  });
  closeSync(fd);
  const pgid = proc.pid;
  if (pgid === undefined) throw new Error(`could not start ${command.join(" ")}`);
  liveGroups.add(pgid);
  const exited = new Promise((done) => proc.once("exit", (code) => done(code)));
  // The pipe must not keep the parent alive, and the supervisor watches its other end.
  proc.stdin?.on("error", () => {});
  proc.stdin?.unref?.();
  proc.unref();
  return { proc, pgid, exited };
}

export async function stopGroup(group, graceMs = 5000) {
  const { pgid } = group;
  if (groupAlive(pgid)) {
    killGroup(pgid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && groupAlive(pgid)) await sleep(100);
    if (groupAlive(pgid)) killGroup(pgid, "SIGKILL");
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && groupAlive(pgid)) await sleep(100);
  }
  liveGroups.delete(pgid);
}

export async function stopAll(graceMs = 5000) {
  await Promise.all([...liveGroups].map((pgid) => stopGroup({ pgid }, graceMs)));
}

export function killAll() {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
}

/** How a command is named in messages: `node script.js …` without the node binary's path. */
function commandName(command) {
  return (command[0] === process.execPath ? command.slice(1) : command).join(" ");
}

export async function runToEnd(command, { cwd, env, logFile, timeoutMs }) {
  const s = supervise(command, { cwd, env, logFile });
  let timer;
  const timeout = new Promise((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  const result = await Promise.race([s.exited, timeout]);
  clearTimeout(timer);
  await stopGroup(s, result === "timeout" ? 2000 : 1000); // Anything it left in its group.
  if (result === "timeout")
    throw new Error(`${commandName(command)} timed out after ${timeoutMs} ms\n${tail(logFile)}`);
  if (result !== 0) throw new Error(`${commandName(command)} exited with ${result}\n${tail(logFile)}`);
}

export async function waitReady(
  server,
  { url, logFile, deadline, name = "wrangler dev", intervalMs = 250, onPoll },
) {
  let exitCode;
  void server.exited.then((code) => {
    exitCode = code;
  });
  for (;;) {
    await onPoll?.();
    if (exitCode !== undefined) throw new Error(`${name} exited with ${exitCode}\n${tail(logFile)}`);
    // A build error leaves wrangler waiting for a file change: fail now, with its message.
    if (tail(logFile, 50_000).includes("Build failed"))
      throw new Error(`${name} could not build the Worker\n${tail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready in time\n${tail(logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(intervalMs);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function portFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

export function tail(file, chars = 6000) {
  try {
    const text = readFileSync(file, "utf8");
    return text.length > chars ? `…${text.slice(-chars)}` : text;
  } catch {
    return "";
  }
}

const PGID_FILE = "pgid";

export function recordGroups(dir, groups) {
  writeFileSync(join(dir, PGID_FILE), groups.map((g) => g.pgid).join(" "));
}

export function sweepStaleDirs(prefix, { minAgeMs = 60_000, unrecordedMinAgeMs = 15 * 60_000 } = {}) {
  const now = Date.now();
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    try {
      const age = now - statSync(dir).mtimeMs;
      if (age < minAgeMs) continue;
      const pgidFile = join(dir, PGID_FILE);
      if (existsSync(pgidFile)) {
        const pgids = readFileSync(pgidFile, "utf8").split(/\s+/).filter(Boolean).map(Number);
        if (pgids.some((p) => Number.isInteger(p) && p > 0 && groupAlive(p))) continue;
      } else if (age < unrecordedMinAgeMs) {
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

/**
 * `env` for a `wrangler dev` whose inspector proxy stays off. While wrangler's InspectorProxyWorker
 * is connected to the runtime (it is, from start-up, whether or not DevTools is open), every D1
 * query, fetch and log line of the Worker becomes inspector events that a second workerd process
 * relays one by one: in the bench the gateway's workerd CPU per send fell from 2.96 to 0.66 ms
 * without it, and its sends bunched less. Production has no such proxy.
 * wrangler 4.86's CLI has no flag for this. It skips the proxy inside a VS Code JavaScript debug
 * terminal, recognised by this variable. miniflare reads it too: it skips its own inspector proxy,
 * and starts VS Code's watchdog only when NODE_OPTIONS names VS Code's bootloader, which our callers
 * never pass. The runtime keeps its own inspector (`--inspector-addr`); the bench attaches to it
 * directly for heap and CPU profiles (bench/inspector.ts `connectRuntimeInspector`).
 */
export function withoutInspectorProxy(env) {
  return { ...env, VSCODE_INSPECTOR_OPTIONS: env.VSCODE_INSPECTOR_OPTIONS || "{}" };
}
