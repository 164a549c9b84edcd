/**
 * 405 support: Hono answers an unmatched method like an unknown path. The registered routes are
 * compiled once into patterns, so a known path with another method can say which ones it allows.
 */
export interface RouteInfo {
  method: string;
  path: string;
}

export function allowedMethods(routes: RouteInfo[]): (path: string) => string[] {
  const patterns = new Map<string, { re: RegExp; methods: Set<string> }>();
  for (const r of routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    let entry = patterns.get(r.path);
    if (!entry) {
      const source = r.path
        .split("/")
        .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      entry = { re: new RegExp(`^${source}/?$`), methods: new Set() };
      patterns.set(r.path, entry);
    }
    entry.methods.add(r.method);
    if (r.method === "GET") entry.methods.add("HEAD");
  }
  return (path) => {
    const allowed = new Set<string>();
    for (const { re, methods } of patterns.values()) {
      if (re.test(path)) for (const m of methods) allowed.add(m);
    }
    return [...allowed].sort();
  };
}
