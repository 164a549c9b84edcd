import { findPhoneColumn } from "./header";
import { csvRecords } from "./records";
import { toAudienceRow } from "./row";
import {
  type AudienceRow,
  type CsvAudienceOptions,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CSV_MAX_BYTES,
  invalidCsv,
  positiveInteger,
} from "./types";

/**
 * A CSV audience, streamed: a header row with one phone column (`findPhoneColumn`), every other
 * column a template parameter in column order. Yields chunks of at most `chunkSize` rows in file
 * order, pulling more of the body only when the consumer asks for the next chunk; duplicates are
 * left to the caller (a unique index in D1 counts them across the whole file).
 *
 * Row numbers (`AudienceRow.row`) are the row a spreadsheet shows for the record: the header is 1
 * and each line break outside quotes starts the next row, blank lines included. A quoted cell with
 * line breaks inside stays one row, as it does in Excel or Google Sheets, where the people who fix
 * these files look; for a file without such cells it is simply the line number in a text editor.
 *
 * Skipped: empty lines and rows whose cells are all blank (`,,,`, which spreadsheets write for
 * formatted but empty rows); they still count for the numbering. Before the header, only empty
 * lines are skipped. The phone cell is trimmed; parameters are kept as written.
 *
 * Throws 400 `invalid_csv` (empty file, no or two phone columns, malformed quotes, a record over
 * 1 MiB, not UTF-8) and 413 `payload_too_large` past `maxBytes` — possibly after chunks were
 * already yielded, so a caller that writes as it goes must undo those writes.
 */
export async function* csvAudience(
  body: ReadableStream<Uint8Array>,
  opts: CsvAudienceOptions,
): AsyncGenerator<AudienceRow[], void, undefined> {
  const chunkSize = positiveInteger("chunkSize", opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const maxBytes = positiveInteger("maxBytes", opts.maxBytes ?? DEFAULT_CSV_MAX_BYTES);
  let phoneIndex = -1;
  let chunk: AudienceRow[] = [];

  for await (const { firstRow, records } of csvRecords(body, maxBytes)) {
    for (let i = 0; i < records.length; i++) {
      const cells = records[i] as string[];
      if (phoneIndex < 0) {
        if (cells.length === 1 && cells[0] === "") continue;
        const column = findPhoneColumn(cells);
        if (!column.ok) throw invalidCsv(column.detail);
        phoneIndex = column.index;
        continue;
      }
      if (isBlank(cells)) continue;
      const written = (cells[phoneIndex] ?? "").trim();
      chunk.push(toAudienceRow(firstRow + i, written, paramsOf(cells, phoneIndex), opts));
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (phoneIndex < 0) throw invalidCsv("The file is empty: it needs a header row with a phone column");
  if (chunk.length > 0) yield chunk;
}

function isBlank(cells: readonly string[]): boolean {
  for (const cell of cells) if (cell.trim() !== "") return false;
  return true;
}

/** Every cell but the phone's, in column order (a row too short for the phone column keeps all). */
function paramsOf(cells: string[], phoneIndex: number): string[] {
  if (phoneIndex === 0) return cells.slice(1);
  if (phoneIndex >= cells.length) return cells;
  return [...cells.slice(0, phoneIndex), ...cells.slice(phoneIndex + 1)];
}
