// A tiny browser stand-in for the portal tests inside workerd: a cookie jar, the CSRF token of the
// last page, and the same-origin headers a browser sends with a form.
import { gw } from "../helpers";

export const ORIGIN = "http://gateway.test";

export interface Page {
  res: Response;
  status: number;
  html: string;
}

export class PortalClient {
  cookie: string | null = null;
  csrf: string | null = null;

  /** Remembers the session cookie the answer sets (Max-Age=0 clears it). */
  private take(res: Response): void {
    const set = res.headers.get("set-cookie");
    if (!set) return;
    const [pair, ...attrs] = set.split(";");
    if (attrs.some((a) => a.trim().toLowerCase() === "max-age=0")) this.cookie = null;
    else this.cookie = pair?.trim() ?? null;
  }

  private headers(extra: Record<string, string> = {}): Headers {
    const h = new Headers(extra);
    if (this.cookie) h.set("cookie", this.cookie);
    return h;
  }

  async get(path: string, extra: Record<string, string> = {}): Promise<Page> {
    const res = await gw(path, { headers: this.headers(extra), redirect: "manual" });
    this.take(res);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]*)"/.exec(html);
    if (token) this.csrf = token[1] as string;
    return { res, status: res.status, html };
  }

  /** A urlencoded form POST as a same-origin browser sends it (`_csrf` added unless given). */
  async post(
    path: string,
    fields: Record<string, string | string[]>,
    opts: { headers?: Record<string, string>; csrf?: string | null } = {},
  ): Promise<Page> {
    const body = new URLSearchParams();
    const token = opts.csrf === undefined ? this.csrf : opts.csrf;
    if (token !== null && token !== undefined && !("_csrf" in fields)) body.append("_csrf", token);
    for (const [k, v] of Object.entries(fields)) {
      for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    }
    const headers = this.headers({
      "content-type": "application/x-www-form-urlencoded",
      origin: ORIGIN,
      "sec-fetch-site": "same-origin",
      ...opts.headers,
    });
    const res = await gw(path, { method: "POST", headers, body: body.toString(), redirect: "manual" });
    this.take(res);
    const html = await res.text();
    const t = /name="_csrf" value="([^"]*)"/.exec(html);
    if (t) this.csrf = t[1] as string;
    return { res, status: res.status, html };
  }

  /** A multipart POST with the parts in the given order. */
  async postMultipart(
    path: string,
    parts: { name: string; value: string; filename?: string }[],
    headers: Record<string, string> = {},
  ): Promise<Page> {
    const boundary = "----portaltest7MA4YWxkTrZu0gW";
    let text = "";
    for (const p of parts) {
      const fn = p.filename !== undefined ? `; filename="${p.filename}"\r\nContent-Type: text/csv` : "";
      text += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${fn}\r\n\r\n${p.value}\r\n`;
    }
    text += `--${boundary}--\r\n`;
    const h = this.headers({
      "content-type": `multipart/form-data; boundary=${boundary}`,
      origin: ORIGIN,
      "sec-fetch-site": "same-origin",
      ...headers,
    });
    const res = await gw(path, { method: "POST", headers: h, body: text, redirect: "manual" });
    this.take(res);
    return { res, status: res.status, html: await res.text() };
  }

  async signIn(apiKey: string): Promise<Page> {
    await this.get("/portal/sign-in");
    const res = await this.post("/portal/sign-in", { api_key: apiKey, next: "/portal/campaigns" });
    if (res.status === 303) await this.get("/portal/campaigns");
    return res;
  }
}
