import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundaryOf, multipartParts } from "../../src/http/multipart/stream";
import { gw, setupBot } from "../helpers";

const enc = new TextEncoder();

/** A stream that hands out `bytes` in pieces of the given sizes (cycled). */
function chunked(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const n = Math.max(1, sizes[i++ % sizes.length] as number);
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

function body(
  boundary: string,
  parts: { name: string; filename?: string; content: string }[],
  preamble = "",
) {
  let text = preamble;
  for (const p of parts) {
    const fn = p.filename !== undefined ? `; filename="${p.filename}"` : "";
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${fn}\r\n\r\n${p.content}\r\n`;
  }
  return `${text}--${boundary}--\r\nepilogue`;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("streaming multipart reader", () => {
  it("finds the boundary in the content type", () => {
    expect(boundaryOf("multipart/form-data; boundary=----abc123")).toBe("----abc123");
    expect(boundaryOf('multipart/form-data; charset=utf-8; boundary="a b"')).toBe("a b");
    expect(boundaryOf("multipart/form-data")).toBeNull();
  });

  it("reads fields and a file whatever the chunking, with boundary-like bytes inside the data", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
        fc.string({ maxLength: 200 }),
        async (sizes, noise) => {
          const boundary = "XyZ-boundary-42";
          // Near-misses of the delimiter inside the data (a client never sends the boundary itself).
          const file = `phone,a\r\n+5511999990001,"--XyZ-boundary-4 ${noise}"\r\n\r\n--XyZ-boundar\r\n-`;
          const raw = enc.encode(
            body(
              boundary,
              [
                { name: "name", content: "bf" },
                { name: "file", filename: "a.csv", content: file },
              ],
              "pre\r\n",
            ),
          );
          const seen: [string | null, string | null, string][] = [];
          for await (const part of multipartParts(chunked(raw, sizes), boundary)) {
            seen.push([
              part.name,
              part.filename,
              part.name === "file" ? await readAll(part.body) : await part.text(),
            ]);
          }
          expect(seen).toEqual([
            ["name", null, "bf"],
            ["file", "a.csv", file],
          ]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("skips a part the consumer does not read", async () => {
    const raw = enc.encode(
      body("b", [
        { name: "skip", content: "x".repeat(5000) },
        { name: "keep", content: "yes" },
      ]),
    );
    const names: string[] = [];
    for await (const part of multipartParts(chunked(raw, [7]), "b")) {
      names.push(`${part.name}${part.name === "keep" ? `=${await part.text()}` : ""}`);
    }
    expect(names).toEqual(["skip", "keep=yes"]);
  });

  it("refuses a body without the boundary or cut short", async () => {
    await expect(async () => {
      for await (const _ of multipartParts(chunked(enc.encode("no boundary here"), [5]), "b")) {
      }
    }).rejects.toMatchObject({ status: 400, code: "invalid_request" });
    const cut = enc.encode('--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nphone\r\n+55');
    await expect(async () => {
      for await (const part of multipartParts(chunked(cut, [4]), "b")) await readAll(part.body);
    }).rejects.toMatchObject({ status: 400 });
  });
});

describe("multipart campaigns", () => {
  it("streams a large file sent after the fields", async () => {
    const bot = await setupBot({ throughputMps: 1000 });
    const rows = Array.from(
      { length: 40_000 },
      (_, i) => `+55119${String(i).padStart(8, "0")},Ana ${i},15/08`,
    ).join("\n");
    const res = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "multipart/form-data; boundary=bb" },
      body: body("bb", [
        { name: "name", content: "big" },
        { name: "template", content: "fall_sale" },
        { name: "language", content: "pt_BR" },
        { name: "file", filename: "big.csv", content: `phone,first,until\n${rows}\n` },
      ]),
    });
    expect(res.status).toBe(202);
    const created = (await res.json()) as any;
    expect(created).toMatchObject({ name: "big", total: 40_000, invalid: 0 });
    await gw(`/v1/campaigns/${created.id}/cancel`, { method: "POST", key: bot.apiKey });
  });

  it("accepts the file before the fields (held in memory) and fields in the query string", async () => {
    const bot = await setupBot({ throughputMps: 200 });
    const raw = body("bb", [
      { name: "file", filename: "a.csv", content: "phone,first,until\n+5511999990001,Ana,15/08\n" },
      { name: "name", content: "late fields" },
      { name: "template", content: "fall_sale" },
      { name: "language", content: "pt_BR" },
    ]);
    const res = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "multipart/form-data; boundary=bb" },
      body: raw,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ name: "late fields", total: 1 });

    const viaQuery = await gw("/v1/campaigns?name=q&template=fall_sale&language=pt_BR", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "multipart/form-data; boundary=bb" },
      body: body("bb", [{ name: "file", filename: "a.csv", content: "to,a,b\n+5511999990002,x,y\n" }]),
    });
    expect(viaQuery.status).toBe(202);
    expect(await viaQuery.json()).toMatchObject({ name: "q", total: 1 });

    const noFile = await gw("/v1/campaigns", {
      method: "POST",
      key: bot.apiKey,
      headers: { "content-type": "multipart/form-data; boundary=bb" },
      body: body("bb", [
        { name: "name", content: "x" },
        { name: "template", content: "fall_sale" },
        { name: "language", content: "pt_BR" },
      ]),
    });
    expect(noFile.status).toBe(400);
    expect(await noFile.json()).toMatchObject({ code: "invalid_request", errors: [{ path: "file" }] });
  });
});
