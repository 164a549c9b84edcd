// Types of process-group.mjs (hand-written: the module is plain JavaScript so that `node` runs it
// without a TypeScript loader). Keep the two in step.
import type { ChildProcess } from "node:child_process";

/** A process group, named by its leader's pid. */
export interface Group {
  readonly pgid: number;
}

/** A command running in its own process group under the supervisor. */
export interface Supervised extends Group {
  /** The supervisor (the group leader). */
  readonly proc: ChildProcess;
  /** Resolves with the supervisor's exit code (the command's, when it ended by itself). */
  readonly exited: Promise<number | null>;
}

export interface SuperviseOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
}

/**
 * Starts `command` in a new process group led by the supervisor, which ends the group when this
 * process goes away (even after SIGKILL). Installs the `exit` hook that SIGKILLs groups still live.
 */
export function supervise(command: readonly string[], opts: SuperviseOptions): Supervised;

/** SIGTERM to the group, SIGKILL after `graceMs` (default 5 s); resolves once nothing of it runs (or 5 s later). */
export function stopGroup(group: Group, graceMs?: number): Promise<void>;

/** `stopGroup` for every group this process started. */
export function stopAll(graceMs?: number): Promise<void>;

/** SIGKILL to every group this process started, at once. */
export function killAll(): void;

/** Signals the whole group; false when it is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean;

export function groupAlive(pgid: number): boolean;

/** Groups this process started that still run. */
export function liveGroupIds(): number[];

/**
 * Runs `command` to completion in its own group, then ends anything it left there; rejects with
 * the tail of `logFile` when it exits non-zero or does not finish within `timeoutMs`.
 */
export function runToEnd(
  command: readonly string[],
  opts: SuperviseOptions & { timeoutMs: number },
): Promise<void>;

export interface WaitReadyOptions {
  /** Polled until it answers 200. */
  url: string;
  /** The server's log: scanned for "Build failed", quoted in errors. */
  logFile: string;
  /** Epoch ms. */
  deadline: number;
  /** Names the server in errors. Default "wrangler dev". */
  name?: string;
  /** Pause between polls. Default 250 ms. */
  intervalMs?: number;
  /** Awaited before each poll (e.g. never settles while the caller shuts down). */
  onPoll?: () => void | Promise<void>;
}

/** Resolves once `url` answers 200; rejects when the server exits, fails to build, or the deadline passes. */
export function waitReady(server: Pick<Supervised, "exited">, opts: WaitReadyOptions): Promise<void>;

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number>;

/** Whether `port` can be listened on at 127.0.0.1 now. */
export function portFree(port: number): Promise<boolean>;

/** The last `chars` (default 6000) characters of a file, "" when it cannot be read. */
export function tail(file: string, chars?: number): string;

/** Notes in `dir` (file `pgid`: the ids, space-separated) the process groups that use it, for `sweepStaleDirs`. */
export function recordGroups(dir: string, groups: readonly Group[]): void;

export interface SweepOptions {
  /** Younger dirs are left alone. Default 60 s. */
  minAgeMs?: number;
  /** Dirs with no groups recorded (still starting, or killed while starting) are left alone this long. Default 15 min. */
  unrecordedMinAgeMs?: number;
}

/**
 * Removes temp dirs named `prefix…` of runs killed outright (SIGKILL leaves no chance to clean up;
 * the supervisors still ended their processes) once none of their recorded groups runs.
 */
export function sweepStaleDirs(prefix: string, opts?: SweepOptions): void;

export function sleep(ms: number): Promise<void>;

/**
 * `env` for a `wrangler dev` whose inspector proxy stays off (wrangler skips it when
 * VSCODE_INSPECTOR_OPTIONS is set); the runtime's own inspector stays available.
 */
export function withoutInspectorProxy(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
