// A small HTTP relay between the two local Workers, in the demo's own process (Node built-ins).
//
// Why: `wrangler dev` serves each Worker through a proxy built on kj's HTTP stack, whose server
// closes a keep-alive connection after 5 s idle, while kj's client pool (the calling Worker's
// outbound fetch) also keeps idle connections for 5 s. A request written on a pooled connection
// at the moment the other side closes it is lost ("Network connection lost" for the caller; the
// callee never sees it): cloudflare/workers-sdk#14641. Under load this dropped up to a fifth of
// the demo's sends. The relay keeps its side of the callers' connections open for long (the
// caller's pool always closes them first, which is safe) and opens a fresh connection to the
// callee for every request (nothing idle to race with).
//
// For webhooks (`retryDropped`), a request the callee's dev proxy answers with its 503 "Your
// worker restarted mid-request" (or a refused connection) is posted again, as Meta retries a
// webhook that was not taken; sends to the simulator are never repeated.
import http from "node:http";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
];

/**
 * Starts a relay to 127.0.0.1:`targetPort`; resolves to { port, close(), tally }. `count(method,
 * path)` picks the requests whose arrival times (`tally.arrivals`, epoch ms, as the relay received
 * them from the caller) and 2xx answers (`tally.ok`) are tallied.
 */
export function startRelay(targetPort, { retryDropped = false, count = () => false } = {}) {
  const tally = { arrivals: [], ok: 0 };
  const server = http.createServer(async (req, res) => {
    const counted = count(req.method, req.url);
    if (counted) tally.arrivals.push(Date.now());
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    headers.host = `127.0.0.1:${targetPort}`;
    headers["content-length"] = String(body.length);
    headers.connection = "close";
    for (let attempt = 1; ; attempt++) {
      const answer = await forward(targetPort, req.method, req.url, headers, body);
      const dropped =
        answer.error !== undefined ||
        (answer.status === 503 && answer.body.toString("utf8").includes("restarted mid-request"));
      if (dropped && retryDropped && attempt < 5) {
        await new Promise((r) => setTimeout(r, 100 * attempt));
        continue;
      }
      if (answer.error !== undefined) {
        res.destroy(); // The caller sees a broken connection, as it would without the relay.
        return;
      }
      if (counted && answer.status >= 200 && answer.status < 300) tally.ok++;
      const out = { ...answer.headers };
      for (const h of HOP_BY_HOP) delete out[h];
      out["content-length"] = String(answer.body.length);
      res.writeHead(answer.status, out);
      res.end(answer.body);
      return;
    }
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: server.address().port,
        tally,
        close: () => {
          server.closeAllConnections?.();
          server.close();
        },
      });
    });
  });
}

function forward(port, method, path, headers, body) {
  return new Promise((resolve) => {
    const up = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (r) => {
      const chunks = [];
      r.on("data", (c) => chunks.push(c));
      r.on("end", () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
      r.on("error", (error) => resolve({ error }));
    });
    up.on("error", (error) => resolve({ error }));
    up.end(body);
  });
}
