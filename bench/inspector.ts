/**
 * The gateway isolate seen through its runtime's inspector (Chrome DevTools Protocol): its JS
 * heap (`Runtime.getHeapUsage`, the figure that the 128 MB isolate limit is about) and CPU profiles.
 * Needs a WebSocket client: Node 20 has one behind `--experimental-websocket` (the bench script
 * passes it); without it these figures are left out.
 */
import { readFileSync } from "node:fs";
import { listeningPorts, processesInGroup } from "./procs";

export interface Inspector {
  call<T = any>(method: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  close(): void;
}

/**
 * The gateway isolate's inspector straight at its runtime workerd (`--inspector-addr`). The bench's
 * wrangler runs without its inspector proxy (scripts/lib/process-group.mjs `withoutInspectorProxy`):
 * that proxy handles every runtime message (the `Network` events of each D1 query and fetch
 * included) one by one, multiplies the CPU per send and, after heavy traffic, lags for minutes.
 */
export async function connectRuntimeInspector(pgid: number): Promise<Inspector | null> {
  if (!(globalThis as { WebSocket?: unknown }).WebSocket) return null;
  for (const p of processesInGroup(pgid)) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${p.pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmd.includes("--inspector-addr=")) continue;
    for (const port of listeningPorts(p.pid)) {
      let list: { id?: string; webSocketDebuggerUrl?: string }[];
      try {
        const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) });
        list = (await res.json()) as typeof list;
      } catch {
        continue; // Another of its sockets.
      }
      const url = Array.isArray(list)
        ? list.find((t) => t.id?.startsWith("core:user:"))?.webSocketDebuggerUrl
        : undefined;
      if (url) return connectInspectorAt(url);
    }
  }
  return null;
}

async function connectInspectorAt(url: string): Promise<Inspector> {
  const WS = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket as typeof WebSocket;
  // DevTools' origin, which inspector endpoints may insist on (undici's WebSocket accepts headers).
  const ws = new (WS as unknown as new (u: string, init: unknown) => WebSocket)(url, {
    headers: { Origin: "https://devtools.devprod.cloudflare.dev" },
  });
  await new Promise<void>((resolve, reject) => {
    // Bounded: a runtime busy with traffic may take a while to answer the upgrade.
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("inspector: no answer in 10 s"));
    }, 10_000);
    ws.addEventListener(
      "open",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
    ws.addEventListener(
      "error",
      () => {
        clearTimeout(timer);
        reject(new Error("inspector: could not connect"));
      },
      { once: true },
    );
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  ws.addEventListener("message", (ev) => {
    let msg: { id?: number; result?: unknown; error?: { message?: string } };
    try {
      msg = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (msg.id === undefined) return; // An event.
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`inspector: ${msg.error.message ?? "error"}`));
    else p.resolve(msg.result);
  });
  return {
    call(method, params = {}, timeoutMs = 30_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`inspector: ${method} timed out`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    close() {
      ws.close();
    },
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time per function of a CPU profile, most first: [name, share of samples]. */
export function topFunctions(profile: { nodes: ProfileNode[] }, n = 15): [string, number][] {
  const self = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const f = node.callFrame;
    const file = f.url.split("/").slice(-2).join("/");
    const key = `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => [k, total ? v / total : 0]);
}

/**
 * Inclusive share of samples under functions with these names (a frame under an ancestor of the
 * same name is counted once), and the share of idle / GC / busy samples.
 */
export function inclusiveShares(
  profile: { nodes: ProfileNode[] },
  names: string[],
): { byName: Map<string, number>; idle: number; gc: number; total: number } {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const wanted = new Set(names);
  const byName = new Map<string, number>(names.map((n) => [n, 0]));
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    if (n.callFrame.functionName === "(idle)") idle += hits;
    if (n.callFrame.functionName === "(garbage collector)") gc += hits;
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const name = byId.get(id)?.callFrame.functionName ?? "";
      if (wanted.has(name) && !seen.has(name)) {
        seen.add(name);
        byName.set(name, (byName.get(name) ?? 0) + hits);
      }
    }
  }
  if (total > 0) for (const [k, v] of byName) byName.set(k, v / total);
  return { byName, idle: total ? idle / total : 0, gc: total ? gc / total : 0, total };
}
