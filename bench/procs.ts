/** What /proc says about the servers: workerd processes, their memory, connections between them. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface Proc {
  pid: number;
  comm: string;
  pgrp: number;
}

function stat(pid: number): Proc | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses.
    const open = text.indexOf("(");
    const close = text.lastIndexOf(")");
    const comm = text.slice(open + 1, close);
    const rest = text.slice(close + 2).split(" ");
    return { pid, comm, pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

export function processesInGroup(pgid: number): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const p = stat(Number(name));
    if (p && p.pgrp === pgid) out.push(p);
  }
  return out;
}

export function workerdPids(pgid: number): number[] {
  return processesInGroup(pgid)
    .filter((p) => p.comm.startsWith("workerd"))
    .map((p) => p.pid);
}

export interface Mem {
  /** Current resident set, bytes. */
  rss: number;
  /** Peak resident set since the process started (VmHWM), bytes. */
  hwm: number;
}

export function memOf(pid: number): Mem | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
    return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
  } catch {
    return null;
  }
}

/** Sum over the pids (each sampled once). */
export function memOfAll(pids: number[]): Mem {
  let rss = 0;
  let hwm = 0;
  for (const pid of pids) {
    const m = memOf(pid);
    if (!m) continue;
    rss += m.rss;
    hwm += m.hwm;
  }
  return { rss, hwm };
}

/** CPU time (user + system) of a process, seconds. */
export function cpuSecondsOf(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // Fields after comm: state(0) ppid(1) ... utime(11) stime(12), in clock ticks (100 Hz on Linux).
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Established TCP connections whose remote end is 127.0.0.1:port (i.e. client sockets to that
 * server), from /proc/net/tcp. Used to see how many connections the gateway keeps open to the
 * simulator while a campaign is sent.
 */
export function connectionsTo(port: number): number {
  let text: string;
  try {
    text = readFileSync("/proc/net/tcp", "utf8");
  } catch {
    return Number.NaN;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  let n = 0;
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const rem = cols[2] ?? "";
    const st = cols[3];
    if (st === "01" && rem.endsWith(`:${hexPort}`)) n++;
  }
  return n;
}

/** TCP ports a process listens on (IPv4), from its socket fds and /proc/net/tcp. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m) inodes.add(m[1] as string);
      } catch {
        // Closed meanwhile.
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[3] !== "0A") continue; // LISTEN
    if (!inodes.has(cols[9] ?? "")) continue;
    ports.push(Number.parseInt((cols[1] ?? "").split(":")[1] ?? "0", 16));
  }
  return ports;
}

/** CPU seconds per thread of a process. */
export function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
        out.set(Number(tid), (Number(rest[11]) + Number(rest[12])) / 100);
      } catch {
        // Thread ended.
      }
    }
  } catch {
    // Process ended.
  }
  return out;
}

/** The busiest thread's CPU between two `threadCpu` readings, seconds. */
export function busiestThread(before: Map<number, number>, after: Map<number, number>): number {
  let best = 0;
  for (const [tid, s] of after) best = Math.max(best, s - (before.get(tid) ?? 0));
  return best;
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}
