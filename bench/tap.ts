/**
 * A TCP pass-through in front of the simulator's Graph API that timestamps what goes through it:
 * when each request arrived from the sender (before any jitter of the simulator's side) and how many
 * requests were in flight (sent, not yet answered). The gateway's META_GRAPH_URL points here, and so
 * do the bare loops, so both pay the same extra hop.
 *
 * HTTP/1.1 without pipelining: a request starts with "POST " / "GET " on the client side, an answer
 * with "HTTP/1.1 " on the server side; counting those markers per connection is enough.
 */
import net from "node:net";

const REQUEST = /(?:^|\r\n\r\n|\})(?:POST|GET|PUT|DELETE) \//g;
const ANSWER = /HTTP\/1\.1 \d{3} /g;

export interface TapWindow {
  /** Arrival time (epoch ms) of each request since `mark()`. */
  requests: number[];
  maxInFlight: number;
  /** Time-weighted mean of requests in flight between the first and the last request. */
  meanInFlight: number;
}

export class Tap {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private requests: number[] = [];
  private inFlight = 0;
  private maxInFlight = 0;
  /** ∫ inFlight dt (ms) and the time of the last change. */
  private area = 0;
  private lastChange = Date.now();
  private markArea = 0;
  private markAt = Date.now();
  port = 0;

  constructor(private targetPort: number) {}

  /** Where new connections go from now on (the simulator's address is known only once it runs). */
  retarget(port: number): void {
    this.targetPort = port;
  }

  async listen(): Promise<number> {
    this.server = net.createServer((client) => this.connection(client));
    await new Promise<void>((resolve, reject) => {
      this.server?.once("error", reject);
      this.server?.listen(0, "127.0.0.1", () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === "object" && addr ? addr.port : 0;
    return this.port;
  }

  private change(delta: number): void {
    const now = Date.now();
    this.area += this.inFlight * (now - this.lastChange);
    this.lastChange = now;
    this.inFlight = Math.max(0, this.inFlight + delta);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }

  private connection(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, "127.0.0.1");
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let pendingHere = 0; // requests of this connection not answered yet
    let clientTail = "";
    let upstreamTail = "";
    client.on("data", (chunk: Buffer) => {
      const now = Date.now();
      const text = clientTail + chunk.toString("latin1");
      const n = countFrom(REQUEST, text, clientTail.length);
      clientTail = text.slice(-8);
      for (let i = 0; i < n; i++) this.requests.push(now);
      if (n > 0) {
        pendingHere += n;
        this.change(n);
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      const text = upstreamTail + chunk.toString("latin1");
      const n = Math.min(pendingHere, countFrom(ANSWER, text, upstreamTail.length));
      upstreamTail = text.slice(-12);
      if (n > 0) {
        pendingHere -= n;
        this.change(-n);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      if (pendingHere > 0) {
        this.change(-pendingHere);
        pendingHere = 0;
      }
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  }

  /** Starts a new measuring window. */
  mark(): void {
    this.change(0);
    this.requests = [];
    this.maxInFlight = this.inFlight;
    this.markArea = this.area;
    this.markAt = Date.now();
  }

  window(): TapWindow {
    this.change(0);
    const reqs = [...this.requests];
    const first = reqs[0];
    const last = reqs[reqs.length - 1];
    // The mean over the sending period only: the area is accumulated from the mark, so subtract
    // nothing before the first request (nothing was in flight then) and use (last − first).
    const span = first !== undefined && last !== undefined ? Math.max(1, last - first) : 1;
    const area = this.area - this.markArea;
    return {
      requests: reqs,
      maxInFlight: this.maxInFlight,
      meanInFlight: first !== undefined ? area / Math.max(span, 1) : 0,
    };
  }

  sinceMarkMs(): number {
    return Date.now() - this.markAt;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Matches of `re` in `text` that end after `from` (so a marker split across chunks counts once). */
function countFrom(re: RegExp, text: string, from: number): number {
  let n = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index + m[0].length > from) n++;
  }
  return n;
}
