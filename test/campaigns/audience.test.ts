import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AudienceRow,
  csvAudience,
  detectDelimiter,
  findPhoneColumn,
  jsonAudience,
  locateHeader,
  MAX_RECORD_CHARS,
} from "../../src/campaigns/audience";
import { csvRecords } from "../../src/campaigns/audience/records";
import { AppError } from "../../src/lib/errors";

const encoder = new TextEncoder();
const BR = { defaultRegion: "BR", paramCount: 2 };

/** A body that hands out `bytes` in pieces of `size` bytes, one per pull. */
function byteStream(bytes: Uint8Array, size = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

const textStream = (text: string, size?: number) => byteStream(encoder.encode(text), size);

async function collect(
  chunks: AsyncIterable<AudienceRow[]>,
): Promise<{ rows: AudienceRow[]; chunks: number }> {
  const rows: AudienceRow[] = [];
  let count = 0;
  for await (const chunk of chunks) {
    count++;
    rows.push(...chunk);
  }
  return { rows, chunks: count };
}

async function csvRows(text: string, opts: Partial<typeof BR> & { chunkSize?: number } = {}) {
  return (await collect(csvAudience(textStream(text), { ...BR, ...opts }))).rows;
}

async function failure(run: Promise<unknown>): Promise<AppError> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const valid = (row: number, to: string, params: string[]): AudienceRow => ({
  row,
  to,
  params,
  invalid: null,
});

describe("csvAudience: RFC 4180", () => {
  it("reads a plain CSV, numbering rows from the header (1)", async () => {
    const rows = await csvRows("phone,name,date\n+55 11 99999-0001,Ana,15/08\n5511999990002,Bia,16/08\n");
    expect(rows).toEqual([
      valid(2, "+5511999990001", ["Ana", "15/08"]),
      valid(3, "+5511999990002", ["Bia", "16/08"]),
    ]);
  });

  it("reads quoted cells with separators, doubled quotes and spaces as written", async () => {
    const rows = await csvRows(
      'phone,name,note\n"+55 11 99999-0001","Silva, Ana","She said ""hi"""\n+5511999990002, Bia ,""\n',
    );
    expect(rows).toEqual([
      valid(2, "+5511999990001", ["Silva, Ana", 'She said "hi"']),
      valid(3, "+5511999990002", [" Bia ", ""]),
    ]);
  });

  it("keeps line breaks inside quotes; a multi-line record is one row, as in a spreadsheet", async () => {
    const rows = await csvRows(
      'phone,name,address\r\n+5511999990001,"Ana\r\nMaria","Rua A\nApto 2"\r\n12ab,Bia,x\r\n+5511999990003,Caio,y\r\n',
    );
    expect(rows).toEqual([
      valid(2, "+5511999990001", ["Ana\r\nMaria", "Rua A\nApto 2"]),
      { row: 3, to: "12ab", params: ["Bia", "x"], invalid: "invalid_phone" },
      valid(4, "+5511999990003", ["Caio", "y"]),
    ]);
  });

  it("strips a UTF-8 BOM", async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    const body = new Uint8Array([...bom, ...encoder.encode("phone,name,date\n+5511999990001,José,15/08\n")]);
    const { rows } = await collect(csvAudience(byteStream(body), BR));
    expect(rows).toEqual([valid(2, "+5511999990001", ["José", "15/08"])]);
  });

  it("reads `;`-separated files (Excel in pt-BR), commas then being text", async () => {
    const rows = await csvRows(
      'Telefone;phone;valor\r\nAna;+55 11 99999-0001;"1,5"\r\nBia;11 99999-0002;2,5\r\n',
      {
        paramCount: 2,
      },
    );
    expect(rows).toEqual([
      valid(2, "+5511999990001", ["Ana", "1,5"]),
      valid(3, "+5511999990002", ["Bia", "2,5"]),
    ]);
  });

  it.each([
    ["LF", "\n"],
    ["CRLF", "\r\n"],
    ["CR (old Mac)", "\r"],
  ])("reads %s line endings, with or without a final line break", async (_, nl) => {
    for (const end of [nl, ""]) {
      const rows = await csvRows(
        ["phone,name,date", "+5511999990001,Ana,15/08", "+5511999990002,Bia,16/08"].join(nl) + end,
      );
      expect(rows).toEqual([
        valid(2, "+5511999990001", ["Ana", "15/08"]),
        valid(3, "+5511999990002", ["Bia", "16/08"]),
      ]);
    }
  });

  it("reads files mixing LF and CRLF (lines appended on another system)", async () => {
    const rows = await csvRows(
      'phone,name,date\r\n+5511999990001,Ana,15/08\n+5511999990002,"Bia",16/08\r\n+5511999990003,Caio,"17/08"\r\n',
    );
    expect(rows.map((r) => r.params)).toEqual([
      ["Ana", "15/08"],
      ["Bia", "16/08"],
      ["Caio", "17/08"],
    ]);
  });

  it("known limit: a quoted last cell whose value ends in CR loses that CR", async () => {
    const rows = await csvRows('phone,name,note\n+5511999990001,Ana,"x\r"\n');
    expect(rows[0]?.params).toEqual(["Ana", "x"]);
  });

  it("skips empty and all-blank lines, which still count for row numbers", async () => {
    const rows = await csvRows(
      "\r\nphone,name,date\r\n\r\n+5511999990001,Ana,15/08\r\n,,\r\n ; \r\n12ab,Bia,x\r\n\r\n",
    );
    expect(rows).toEqual([
      valid(4, "+5511999990001", ["Ana", "15/08"]),
      { row: 6, to: ";", params: [], invalid: "template_params_mismatch" },
      { row: 7, to: "12ab", params: ["Bia", "x"], invalid: "invalid_phone" },
    ]);
  });
});

describe("csvAudience: header", () => {
  it.each([
    ["Phone,name,date"],
    ["to,name,date"],
    [" number ,name,date"],
    ["recipient,name,date"],
    ['"PHONE",name,date'],
    ["TO;name;date"],
  ])("finds the phone column in %j", async (header) => {
    const sep = header.includes(";") ? ";" : ",";
    const rows = await csvRows(`${header}\n+5511999990001${sep}Ana${sep}15/08\n`);
    expect(rows).toEqual([valid(2, "+5511999990001", ["Ana", "15/08"])]);
  });

  it("takes every other column as a parameter, in column order", async () => {
    const rows = await csvRows("name,Phone,date\nAna,+5511999990001,15/08\n", { paramCount: 2 });
    expect(rows).toEqual([valid(2, "+5511999990001", ["Ana", "15/08"])]);
  });

  it("header only → no rows (the caller answers empty_audience)", async () => {
    const { rows, chunks } = await collect(csvAudience(textStream("phone,name,date\r\n"), BR));
    expect(rows).toEqual([]);
    expect(chunks).toBe(0);
  });

  it.each([
    ["no phone column", "telefone,nome\n+5511999990001,Ana\n", "no phone column"],
    ["two phone columns", "phone,number,name\n+5511999990001,2,Ana\n", "more than one phone column"],
    ["an empty file", "", "empty"],
    ["only line breaks", "\r\n\n\r\n", "empty"],
    ["only a BOM", "\uFEFF", "empty"],
  ])("%s → 400 invalid_csv", async (_, text, detail) => {
    const error = await failure(csvRows(text));
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_csv");
    expect(error.detail).toContain(detail);
  });
});

describe("csvAudience: bad rows are rows", () => {
  it("reports invalid numbers with their row and the number as written", async () => {
    const rows = await csvRows(
      "phone,name,date\n+5511999990001,Ana,15/08\n 12ab ,Bia,16/08\n,Caio,17/08\n+55 11 8999-0001,Duda,x\n",
    );
    expect(rows).toEqual([
      valid(2, "+5511999990001", ["Ana", "15/08"]),
      { row: 3, to: "12ab", params: ["Bia", "16/08"], invalid: "invalid_phone" },
      { row: 4, to: "", params: ["Caio", "17/08"], invalid: "invalid_phone" },
      { row: 5, to: "+55 11 8999-0001", params: ["Duda", "x"], invalid: "invalid_phone" },
    ]);
  });

  it("reports rows with too few or too many parameters (checked before the number)", async () => {
    const rows = await csvRows(
      "phone,name,date\n+5511999990001,Ana\n+5511999990002,Bia,16/08,extra\n12ab,Caio\n+5511999990004,Duda,17/08\n",
    );
    expect(rows.map((r) => [r.row, r.to, r.invalid])).toEqual([
      [2, "+5511999990001", "template_params_mismatch"],
      [3, "+5511999990002", "template_params_mismatch"],
      [4, "12ab", "template_params_mismatch"],
      [5, "+5511999990004", null],
    ]);
    expect(rows[1]?.params).toEqual(["Bia", "16/08", "extra"]);
  });

  it("checks the row's count against the template's, whatever the header has", async () => {
    const rows = await csvRows("phone,name\n+5511999990001,Ana\n", { paramCount: 2 });
    expect(rows[0]?.invalid).toBe("template_params_mismatch");
    const none = await csvRows("phone\n+5511999990001\n", { paramCount: 0 });
    expect(none).toEqual([valid(2, "+5511999990001", [])]);
  });

  it("normalises numbers written differently to one E.164, so the caller's dedupe sees them equal", async () => {
    const rows = await csvRows(
      "phone;name;date\n+55 11 99999-0001;a;b\n5511999990001;a;b\n(11) 99999-0001;a;b\n0 11 99999-0001;a;b\n+55 (11) 9.9999.0001;a;b\n",
    );
    expect(new Set(rows.map((r) => r.to))).toEqual(new Set(["+5511999990001"]));
    expect(rows.every((r) => r.invalid === null)).toBe(true);
    const us = await csvRows("phone,a,b\n(415) 555-2671,x,y\n+1 415 555 2671,x,y\n", { defaultRegion: "US" });
    expect(us.map((r) => r.to)).toEqual(["+14155552671", "+14155552671"]);
  });
});

describe("csvAudience: a file that cannot be read", () => {
  it("a quote never closed → invalid_csv with its row", async () => {
    const error = await failure(
      csvRows(
        'phone,name,date\n+5511999990001,Ana,15/08\n+5511999990002,"Bia,16/08\n+5511999990003,Caio,17/08\n',
      ),
    );
    expect(error.code).toBe("invalid_csv");
    expect(error.detail).toBe("Row 3: a quoted cell is never closed");
  });

  it("text after a closing quote → invalid_csv rather than rows merged", async () => {
    const error = await failure(
      csvRows('phone,name,date\n+5511999990001,"Ana"Bia,15/08\n+5511999990002,"Caio",x\n'),
    );
    expect(error.code).toBe("invalid_csv");
    expect(error.detail).toMatch(/^Row 2: a closing quote must be followed by a separator/);
  });

  it("a record over the cap (a quote left open in a large file) is refused without reading on", async () => {
    let pulled = 0;
    const line = encoder.encode("+5511999990001,Ana,15/08\n");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('phone,name,date\n+5511999990001,"Ana,15/08\n'));
      },
      pull(controller) {
        pulled += line.length * 1000;
        for (let i = 0; i < 1000; i++) controller.enqueue(line);
      },
    });
    const error = await failure(collect(csvAudience(body, BR)));
    expect(error.detail).toContain("Row 2 is longer than");
    expect(pulled).toBeLessThan(MAX_RECORD_CHARS * 2);
  });

  it("a header that never ends (a quote left open in it) is refused", async () => {
    const text = `phone,"name${"x".repeat(3 * MAX_RECORD_CHARS)}`;
    const error = await failure(collect(csvAudience(textStream(text, 4096), BR)));
    expect(error.detail).toContain("header row is longer than");
  });

  it("bytes that are not UTF-8 → invalid_csv", async () => {
    const latin1 = new Uint8Array([
      ...encoder.encode("phone,name,date\n+5511999990001,Jos"),
      0xe9,
      ...encoder.encode(",x\n"),
    ]);
    const error = await failure(collect(csvAudience(byteStream(latin1), BR)));
    expect(error.code).toBe("invalid_csv");
    expect(error.detail).toContain("UTF-8");
  });

  it("past maxBytes → 413 payload_too_large, as soon as the limit is crossed", async () => {
    let pulls = 0;
    const line = encoder.encode("+5511999990001,Ana,15/08\n");
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("phone,name,date\n"));
      },
      pull(controller) {
        pulls++;
        controller.enqueue(line);
      },
      cancel() {
        cancelled = true;
      },
    });
    const error = await failure(collect(csvAudience(body, { ...BR, maxBytes: 1000 })));
    expect(error.status).toBe(413);
    expect(error.code).toBe("payload_too_large");
    expect(pulls).toBeLessThan(45); // 1000 bytes / 25 a line, plus the queue's read-ahead
    expect(cancelled).toBe(true);
  });
});

describe("csvAudience: streaming", () => {
  it("decodes characters split across chunks (a stream of 1-byte chunks)", async () => {
    const text =
      '\uFEFFphone;nome;obs\r\n+5511999990001;José Ação;😀 ünïcödé\r\n+5511999990002;"Zoë; 日本";\uFEFF€\r\n';
    const { rows } = await collect(csvAudience(textStream(text, 1), BR));
    expect(rows).toEqual([
      valid(2, "+5511999990001", ["José Ação", "😀 ünïcödé"]),
      // A U+FEFF that is not at the start of the file is text (workerd's decoder dropped it).
      valid(3, "+5511999990002", ["Zoë; 日本", "\uFEFF€"]),
    ]);
  });

  it("stops reading the body when the consumer stops", async () => {
    let cancelled = false;
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(encoder.encode(n++ === 0 ? "phone,a,b\n" : "+5511999990001,x,y\n".repeat(1000)));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const chunk of csvAudience(body, { ...BR, chunkSize: 10 })) {
      expect(chunk).toHaveLength(10);
      break;
    }
    expect(cancelled).toBe(true);
  });

  it("streams 200,000 generated rows chunk by chunk, never reading far ahead of the consumer", async () => {
    const total = 200_000;
    let row = 0;
    let bytesPulled = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("phone,name,code\r\n"));
      },
      pull(controller) {
        if (row >= total) return controller.close();
        let text = "";
        for (let i = 0; i < 500 && row < total; i++, row++) {
          const phone = row % 1000 === 999 ? "12ab" : `+55 11 9${String(10_000_000 + row)}`;
          text += `${phone},"Cliente ${row}, Ltda",${row}\r\n`;
        }
        const bytes = encoder.encode(text);
        bytesPulled += bytes.length;
        controller.enqueue(bytes);
      },
    });

    let chunks = 0;
    let rows = 0;
    let invalid = 0;
    let pulledAtFirstChunk = -1;
    let lastRow = 1;
    for await (const chunk of csvAudience(body, { ...BR, chunkSize: 1000 })) {
      if (chunks === 0) pulledAtFirstChunk = bytesPulled;
      chunks++;
      expect(chunk.length).toBeLessThanOrEqual(1000);
      for (const r of chunk) {
        expect(r.row).toBe(lastRow + 1);
        lastRow = r.row;
        if (r.invalid) invalid++;
      }
      rows += chunk.length;
    }
    expect(rows).toBe(total);
    expect(invalid).toBe(total / 1000);
    expect(lastRow).toBe(total + 1);
    expect(chunks).toBe(total / 1000);
    // The first chunk came out after about 64 KiB of the ~9 MB body had been read.
    expect(pulledAtFirstChunk).toBeGreaterThan(0);
    expect(pulledAtFirstChunk).toBeLessThan(bytesPulled / 20);
  });
});

/** RFC 4180 writer: quotes cells that need it (or all), doubles quotes. */
function writeCsv(
  table: string[][],
  sep: string,
  nl: string,
  quoteAll: boolean,
  finalBreak: boolean,
): string {
  const cell = (c: string) =>
    quoteAll || /[",;\r\n]/.test(c) || c === "" ? `"${c.replaceAll('"', '""')}"` : c;
  return table.map((r) => r.map(cell).join(sep)).join(nl) + (finalBreak ? nl : "");
}

const cellText = fc.string({
  unit: fc.constantFrom("a", "Z", "0", " ", ",", ";", '"', "\n", "\r", "\t", "é", "😀", "\uFEFF"),
  maxLength: 8,
});

describe("csvAudience: property", () => {
  it("any table written as RFC 4180 CSV reads back cell for cell, whatever the chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }).chain((params) =>
          fc.record({
            params: fc.constant(params),
            table: fc.array(fc.array(cellText, { minLength: params, maxLength: params }), { maxLength: 12 }),
            sep: fc.constantFrom(",", ";"),
            nl: fc.constantFrom("\r\n", "\n"),
            quoteAll: fc.boolean(),
            finalBreak: fc.boolean(),
            pieceBytes: fc.integer({ min: 1, max: 64 }),
            roundChars: fc.integer({ min: 1, max: 40 }),
          }),
        ),
        async ({ params, table, sep, nl, quoteAll, finalBreak, pieceBytes, roundChars }) => {
          // The phone column last: the one known deviation (a last cell ending in CR) stays out.
          const header = [...Array.from({ length: params }, (_, i) => `p${i}`), "phone"];
          const rows = table.map((cells) => [...cells, "+5511999990001"]);
          const text = writeCsv([header, ...rows], sep, nl, quoteAll, finalBreak);

          const records: string[][] = [];
          for await (const batch of csvRecords(textStream(text, pieceBytes), 1 << 30, roundChars)) {
            expect(batch.firstRow).toBe(records.length + 1);
            records.push(...batch.records);
          }
          const trailing = records.length > rows.length + 1 ? records.pop() : undefined;
          expect(trailing === undefined || (trailing.length === 1 && trailing[0] === "")).toBe(true);
          expect(records).toEqual([header, ...rows]);

          const audience = (
            await collect(csvAudience(textStream(text, pieceBytes), { ...BR, paramCount: params }))
          ).rows;
          expect(audience).toEqual(table.map((cells, i) => valid(i + 2, "+5511999990001", cells)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("header and delimiter detection (pure)", () => {
  it("findPhoneColumn", () => {
    expect(findPhoneColumn(["name", " Phone "])).toEqual({ ok: true, index: 1 });
    expect(findPhoneColumn(["\uFEFFto"])).toEqual({ ok: true, index: 0 });
    expect(findPhoneColumn(["telefone", "nome"])).toMatchObject({ ok: false });
    expect(findPhoneColumn(["phone", "Recipient"])).toMatchObject({ ok: false });
    expect(findPhoneColumn([])).toMatchObject({ ok: false });
  });

  it("detectDelimiter: the separator that yields a phone column, else the one with more columns", () => {
    expect(detectDelimiter("phone,name,date")).toBe(",");
    expect(detectDelimiter("phone;name;date")).toBe(";");
    expect(detectDelimiter("phone")).toBe(",");
    expect(detectDelimiter("valor (R$ 1,50);phone")).toBe(";");
    expect(detectDelimiter('"nome; sobrenome",phone')).toBe(",");
    expect(detectDelimiter('"a,b";"c,d";to')).toBe(";");
    expect(detectDelimiter("a;b;c")).toBe(";");
    expect(detectDelimiter("a,b;c")).toBe(",");
  });

  it("locateHeader: skips empty lines, honours quotes, waits for what it cannot tell yet", () => {
    expect(locateHeader("\r\n\nphone,a\r\n1", false)).toEqual({
      kind: "found",
      start: 3,
      end: 10,
      newline: "\n",
    });
    expect(locateHeader('phone,"a\nb"\nx', false)).toEqual({
      kind: "found",
      start: 0,
      end: 11,
      newline: "\n",
    });
    expect(locateHeader('phone,"a""\nb"""\nx', false)).toEqual({
      kind: "found",
      start: 0,
      end: 15,
      newline: "\n",
    });
    expect(locateHeader('phone,12" tv\nx', false)).toEqual({
      kind: "found",
      start: 0,
      end: 12,
      newline: "\n",
    });
    expect(locateHeader("phone\rx", false)).toEqual({ kind: "found", start: 0, end: 5, newline: "\r" });
    expect(locateHeader("phone\r", false)).toEqual({ kind: "more" });
    expect(locateHeader("phone\r", true)).toEqual({ kind: "found", start: 0, end: 5, newline: "\r" });
    expect(locateHeader("phone", false)).toEqual({ kind: "more" });
    expect(locateHeader("phone", true)).toEqual({ kind: "found", start: 0, end: 5, newline: "\n" });
    expect(locateHeader("\n\n", true)).toEqual({ kind: "empty" });
  });
});

describe("jsonAudience", () => {
  it("checks each recipient; row is the 0-based index", async () => {
    const { rows } = await collect(
      jsonAudience(
        [
          { to: "+5511999990001", params: ["Ana", "15/08"] },
          { to: "12ab", params: ["Bia", "16/08"] },
          { to: "11 99999-0003", params: ["Caio"] },
          { to: "(11) 99999-0001", params: ["Duda", "17/08"] },
        ],
        BR,
      ),
    );
    expect(rows).toEqual([
      valid(0, "+5511999990001", ["Ana", "15/08"]),
      { row: 1, to: "12ab", params: ["Bia", "16/08"], invalid: "invalid_phone" },
      { row: 2, to: "11 99999-0003", params: ["Caio"], invalid: "template_params_mismatch" },
      valid(3, "+5511999990001", ["Duda", "17/08"]),
    ]);
  });

  it("missing params are none; chunks hold at most chunkSize rows", async () => {
    const items = Array.from({ length: 25 }, () => ({ to: "+5511999990001" }));
    const sizes: number[] = [];
    for await (const chunk of jsonAudience(items, { ...BR, paramCount: 0, chunkSize: 10 })) {
      sizes.push(chunk.length);
      expect(chunk.every((r) => r.invalid === null && r.params.length === 0)).toBe(true);
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect((await collect(jsonAudience([], BR))).chunks).toBe(0);
  });

  it("refuses a chunk size that is not a positive integer", async () => {
    await expect(collect(jsonAudience([], { ...BR, chunkSize: 0 }))).rejects.toThrow(RangeError);
  });
});
