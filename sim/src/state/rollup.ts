// Cross-number views assembled by the registry: stats (its own counters plus every line's) and message
// listings. Lines are few (one per simulated phone number), so fanning out to all of them is cheap.
import type { MessageRecord, SendEndpoint } from "../types";
import type { LineStats } from "./line";
import type { Registry } from "./registry";
import { lineStub } from "./stubs";

interface EndpointStats {
  total: number;
  accepted: number;
  rejected: Record<string, number>;
  dropped: number;
}

const emptyEndpoint = (): EndpointStats => ({ total: 0, accepted: 0, rejected: {}, dropped: 0 });

/** Folds `${endpoint}.total|accepted|dropped|rejected.<code>` counters into per-endpoint stats. */
function addSends(target: Record<SendEndpoint, EndpointStats>, counters: Record<string, number>): void {
  for (const [k, n] of Object.entries(counters)) {
    const m = /^(send_mm_lite|send_cloud)\.(total|accepted|dropped|rejected\.(\d+))$/.exec(k);
    if (!m) continue;
    const s = target[m[1] as SendEndpoint];
    if (m[3]) s.rejected[m[3]] = (s.rejected[m[3]] ?? 0) + n;
    else s[m[2] as "total" | "accepted" | "dropped"] += n;
  }
}

function byPrefix(counters: Record<string, number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(counters)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = n;
  return out;
}

export async function collectStats(reg: Registry, env: SimEnv) {
  const ids = [...reg.store.numbers.keys()];
  const lines: LineStats[] = await Promise.all(ids.map((id) => lineStub(env, id).lineStats(id)));
  const c = reg.counters.all();
  const sends = { send_mm_lite: emptyEndpoint(), send_cloud: emptyEndpoint() };
  addSends(sends, c);
  const numbers: Record<string, unknown> = {};
  let accepted = 0;
  let throttled = 0;
  const products = { mm_lite: 0, cloud_api: 0 };
  const webhooks = { posted: c["webhooks.posted"] ?? 0, failed: c["webhooks.failed"] ?? 0 };
  for (const l of lines) {
    const lc = l.counters;
    addSends(sends, lc);
    accepted += lc.accepted ?? 0;
    throttled += lc.throttled ?? 0;
    products.mm_lite += lc["product.mm_lite"] ?? 0;
    products.cloud_api += lc["product.cloud_api"] ?? 0;
    webhooks.posted += lc["webhooks.posted"] ?? 0;
    webhooks.failed += lc["webhooks.failed"] ?? 0;
    const perNumber = { send_mm_lite: emptyEndpoint(), send_cloud: emptyEndpoint() };
    addSends(perNumber, lc);
    numbers[l.phoneNumberId] = {
      throughputMps: l.throughputMps,
      accepted: lc.accepted ?? 0,
      throttled: lc.throttled ?? 0,
      maxInAnySecond: lc.maxInAnySecond ?? 0,
      sends: perNumber,
    };
  }
  return {
    statusQueries: {
      total: c["statusQueries.total"] ?? 0,
      failed: c["statusQueries.failed"] ?? 0,
      byWaba: byPrefix(c, "statusQueries.waba."),
    },
    templateQueries: { total: c["templateQueries.total"] ?? 0, byWaba: byPrefix(c, "templateQueries.waba.") },
    graphReadLimited: c.graphReadLimited ?? 0,
    sends,
    accepted,
    throttled,
    products,
    faultsInjected: byPrefix(c, "faults."),
    webhooks,
    numbers,
  };
}

export type SimStats = Awaited<ReturnType<typeof collectStats>>;

/** Accepted messages of every number, oldest first, from `sinceMs` on. */
export async function listMessages(
  reg: Registry,
  env: SimEnv,
  sinceMs: number,
  limit: number,
  phoneNumberId?: string,
): Promise<MessageRecord[]> {
  const ids = phoneNumberId ? [phoneNumberId] : [...reg.store.numbers.keys()];
  const parts = await Promise.all(ids.map((id) => lineStub(env, id).lineMessagesSince(sinceMs, limit)));
  // ISO timestamps of one format sort correctly as strings; the sort is stable within a number.
  return parts
    .flat()
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(0, limit);
}

/** The messages behind `wamids` (or all of them), plus the wamids no number knows. */
export async function findMessages(
  reg: Registry,
  env: SimEnv,
  wamids: string[] | "all",
): Promise<{ messages: MessageRecord[]; unknown: string[] }> {
  const ids = [...reg.store.numbers.keys()];
  const query = wamids === "all" ? null : wamids;
  const found = (await Promise.all(ids.map((id) => lineStub(env, id).lineFindMessages(query)))).flat();
  if (wamids === "all") return { messages: found, unknown: [] };
  const byId = new Map(found.map((m) => [m.wamid, m]));
  return {
    messages: wamids.flatMap((w) => byId.get(w) ?? []),
    unknown: wamids.filter((w) => !byId.has(w)),
  };
}
