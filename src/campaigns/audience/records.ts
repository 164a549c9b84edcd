/**
 * CSV records from a byte stream, in bounded memory.
 *
 * Parser choice — papaparse 5.7.1 (its core `Papa.Parser`), weighed against the alternatives on npm
 * (measured in Node 20 on 1,000,000 rows / 48 MB with quoted cells, fed in 64 KiB chunks; sizes
 * with esbuild --minify, gzip -9):
 *   papaparse 5.7.1     1.4–1.7 M rows/s   8 KB gz  RFC 4180 quotes, doubled quotes, line breaks
 *                                                    and separators inside quotes; the most used
 *                                                    JS CSV parser (~29 M downloads a month), kept up.
 *   csv-parse 7.0.3     0.22 M rows/s (Node Transform), 0.30 M rows/s (`csv-parse/stream`, a web
 *                       TransformStream over `node:stream/web`): 8 KB gz plus Buffer from
 *                       nodejs_compat; `browser/esm` bundles its own Buffer and stream: 25 KB gz.
 *                       Correct and well kept, but byte-at-a-time and 5–6× slower: at 1 M rows that
 *                       is ~3 s more CPU per campaign in a Worker billed and limited by CPU time.
 *                       (`csv-parse/sync` is not streaming at all.)
 *   udsv 0.7.3          faster still, but builds row functions with `new Function`, which workerd
 *                       forbids, and needs line breaks inside quotes to match the row separator
 *                       (Excel writes CRLF rows with LF inside cells).
 *   @fast-csv/parse, csv-parser   Node streams only, slower than csv-parse in published benchmarks.
 * papaparse's own streamers read Node streams, Files and URLs, not a web ReadableStream, and push
 * through callbacks; the loop below is what its ChunkStreamer does (parse what has arrived, leave
 * the unfinished last record for the next round) driven by the consumer's pulls, so a slow D1
 * writer slows the upload instead of filling memory. papaparse has no BOM, delimiter or size
 * handling at this level, so they are done here: `decodeUtf8` drops a UTF-8 BOM, `header.ts`
 * picks `,` or `;`, and two caps bound what is held (see below).
 *
 * Record separators: LF, CRLF, or CR alone (old Mac files) when the header ends with a lone CR.
 * CRLF is parsed as LF followed by stripping one trailing CR from each record's last cell, so a
 * file whose lines mix LF and CRLF (appended to on another system) still reads right; line breaks
 * inside quoted cells are kept as written. The one cost: a quoted last cell whose value itself ends
 * in CR loses that CR (Meta refuses line breaks in template parameters anyway).
 *
 * Quotes are strict: a quote that never closes (it would swallow the rest of the file) or a quoted
 * field followed by anything but a separator or line break (`"Ana"Bia`, which papaparse reads by
 * searching on for a later closing quote, possibly rows away) make the whole file `invalid_csv`
 * with the row number, instead of silently merging recipients.
 */
import Papa, { type CoreParseResult, type CoreParser } from "papaparse";
import { errors } from "../../lib/errors";
import { detectDelimiter, locateHeader } from "./header";
import { invalidCsv } from "./types";

/** Records of one parse round; `records[i]` is on row `firstRow + i` (header = 1). */
export interface RecordBatch {
  firstRow: number;
  records: string[][];
}

/** Text gathered before a parse round: small network chunks would cost a round each. */
const ROUND_CHARS = 64 * 1024;
/**
 * Longest record (and header) held while waiting for its end. A real row is a number and a few
 * template parameters (at most 1,024 characters each at Meta); longer means a quote never closed,
 * and without this cap it would hold the rest of a 100 MiB file — and re-parse it every round.
 */
export const MAX_RECORD_CHARS = 1024 * 1024;

export async function* csvRecords(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  /** Tests set it low to put record ends at every possible place relative to a round. */
  roundChars = ROUND_CHARS,
): AsyncGenerator<RecordBatch, void, undefined> {
  let parser: CoreParser | null = null;
  let stripCr = true;
  /** Text not parsed into whole records yet: the unfinished last record plus what came since. */
  let text = "";
  /** Characters that came since the last round, so a long unfinished record is not re-parsed per chunk. */
  let fresh = 0;
  let nextRow = 1;
  /** Text length at which to look for the header's end again: doubling keeps a trickle linear. */
  let locateAt = 0;

  const round = (final: boolean): RecordBatch => {
    const result = (parser as CoreParser).parse(text, 0, !final);
    const firstRow = nextRow;
    refuseBadQuotes(result, firstRow);
    text = final ? "" : text.slice(result.meta.cursor);
    fresh = 0;
    nextRow += result.data.length;
    if (text.length > MAX_RECORD_CHARS) {
      throw invalidCsv(`Row ${nextRow} is longer than ${MAX_RECORD_CHARS} characters: is a quote left open?`);
    }
    if (stripCr) {
      for (const cells of result.data) {
        const last = cells.length - 1;
        const cell = cells[last];
        if (cell !== undefined && cell.charCodeAt(cell.length - 1) === 13) cells[last] = cell.slice(0, -1);
      }
    }
    return { firstRow, records: result.data };
  };

  for await (const piece of decodeUtf8(body, maxBytes)) {
    text += piece;
    fresh += piece.length;
    if (parser === null) {
      if (text.length < locateAt) continue;
      const header = locateHeader(text, false);
      if (header.kind !== "found") {
        locateAt = text.length * 2;
        if (text.length > MAX_RECORD_CHARS) {
          throw invalidCsv(`The header row is longer than ${MAX_RECORD_CHARS} characters`);
        }
        continue;
      }
      parser = newParser(text.slice(header.start, header.end), header.newline);
      stripCr = header.newline === "\n";
    }
    if (fresh >= roundChars) yield round(false);
  }

  if (parser === null) {
    const header = locateHeader(text, true);
    if (header.kind !== "found") return; // nothing but line breaks: the caller calls it empty
    parser = newParser(text.slice(header.start, header.end), header.newline);
    stripCr = header.newline === "\n";
  }
  const last = round(true);
  if (last.records.length > 0) yield last;
}

function newParser(headerRecord: string, newline: "\n" | "\r"): CoreParser {
  return new Papa.Parser({ delimiter: detectDelimiter(headerRecord), newline, quoteChar: '"' });
}

/**
 * papaparse reports quote errors and reads on. An error in the unfinished last record of a round
 * (`row >= data.length`) is not final: that record is parsed again with more text next round.
 */
function refuseBadQuotes(result: CoreParseResult, firstRow: number): void {
  for (const error of result.errors) {
    if (error.row >= result.data.length) continue;
    const row = firstRow + error.row;
    throw invalidCsv(
      error.code === "MissingQuotes"
        ? `Row ${row}: a quoted cell is never closed`
        : `Row ${row}: a closing quote must be followed by a separator or a line break (write a quote inside a quoted cell as "")`,
    );
  }
}

/**
 * The body as text, decoded as it arrives: a streaming TextDecoder keeps a character whose bytes
 * are split across chunks. The BOM is dropped here, not by the decoder: workerd's TextDecoder
 * (`ignoreBOM: false`, streaming) also drops a U+FEFF in the middle of the text when its bytes
 * straddle two chunks — found by the property test with 1- and 2-byte chunks.
 * Invalid UTF-8 (a Windows-1252 export from Excel) is refused rather than turned into U+FFFD in
 * the names sent to customers. Counts bytes for the size limit, and cancels the upload when the
 * consumer stops early or anything throws.
 */
async function* decodeUtf8(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<string, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let bytes = 0;
  let started = false;
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) finished = true;
      else {
        bytes += value.byteLength;
        if (bytes > maxBytes) throw errors.payloadTooLarge(maxBytes);
      }
      let text = decode(decoder, value);
      if (!started && text.length > 0) {
        started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
      if (text.length > 0) yield text;
      if (finished) return;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function decode(decoder: TextDecoder, bytes: Uint8Array | undefined): string {
  try {
    return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
  } catch {
    throw invalidCsv('The file is not UTF-8 text: save it as "CSV UTF-8"');
  }
}
