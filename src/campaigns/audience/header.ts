import Papa from "papaparse";

/** Header names of the phone column (api.md), compared trimmed and case-insensitively. */
export const PHONE_COLUMN_NAMES: readonly string[] = ["phone", "to", "recipient", "number"];
const PHONE_NAMES = new Set(PHONE_COLUMN_NAMES);

export type PhoneColumn = { ok: true; index: number } | { ok: false; detail: string };

/**
 * The phone column of a header row. Exactly one is required: with two (`phone` and `number`, say)
 * there is no telling which one holds the recipient and which one is a template parameter, so the
 * file is refused rather than guessed.
 */
export function findPhoneColumn(header: readonly string[]): PhoneColumn {
  const found: number[] = [];
  for (let i = 0; i < header.length; i++) {
    // trim() also drops a stray U+FEFF (a BOM the decoder did not see, e.g. after a blank line).
    if (PHONE_NAMES.has((header[i] as string).trim().toLowerCase())) found.push(i);
  }
  if (found.length === 1) return { ok: true, index: found[0] as number };
  if (found.length === 0) {
    const seen = header
      .slice(0, 10)
      .map((name) => JSON.stringify(name.trim().slice(0, 40)))
      .join(", ");
    return {
      ok: false,
      detail: `The header has no phone column (one of ${PHONE_COLUMN_NAMES.join(", ")}); it has: ${seen}`,
    };
  }
  const names = found.map((i) => JSON.stringify((header[i] as string).trim())).join(", ");
  return { ok: false, detail: `The header has more than one phone column (${names}); keep exactly one` };
}

export type Delimiter = "," | ";";

/**
 * `,` or `;` (spreadsheets in comma-decimal locales, Brazil's included, write `;`), read from the
 * header record alone: the header names the columns, so the separator is the one that splits it
 * into a header with a phone column. When both or neither do (`phone` alone, or no phone column at
 * all), the one that makes more columns wins, and `,` on a tie. Counting separators in the data
 * rows, as papaparse's and Python's sniffers do, is fooled by cells like "1,5" or "Silva; Ana".
 */
export function detectDelimiter(headerRecord: string): Delimiter {
  const comma = splitRecord(headerRecord, ",");
  const semicolon = splitRecord(headerRecord, ";");
  const commaOk = findPhoneColumn(comma).ok;
  const semicolonOk = findPhoneColumn(semicolon).ok;
  if (commaOk !== semicolonOk) return commaOk ? "," : ";";
  return semicolon.length > comma.length ? ";" : ",";
}

/** One record's cells (quotes honoured), the record given without its line break. */
export function splitRecord(record: string, delimiter: Delimiter): string[] {
  return new Papa.Parser({ delimiter, newline: "\n" }).parse(record, 0, false).data[0] ?? [];
}

export type HeaderLocation =
  | { kind: "found"; start: number; end: number; newline: "\n" | "\r" }
  | { kind: "more" }
  | { kind: "empty" };

const QUOTE = 34;
const LF = 10;
const CR = 13;
const COMMA = 44;
const SEMICOLON = 59;

/**
 * Where the header record lies in the text read so far: from the first line that is not empty to
 * the first line break outside quotes. "more" when the text read so far cannot tell (`complete`
 * says the text is the whole file). The line break also tells the record separator: a CR alone
 * means the old Mac convention; anything else is read as LF (CRLF included, see `records.ts`).
 * A quote opens a quoted field only at the start of a field, as in papaparse: `12" screen` is text.
 */
export function locateHeader(text: string, complete: boolean): HeaderLocation {
  let start = 0;
  while (start < text.length && (text.charCodeAt(start) === LF || text.charCodeAt(start) === CR)) start++;
  if (start === text.length) return complete ? { kind: "empty" } : { kind: "more" };

  let inQuotes = false;
  // A doubled quote inside a quoted field closes it and at once reopens it.
  let justClosed = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inQuotes) {
      if (c === QUOTE) {
        inQuotes = false;
        justClosed = true;
      }
      continue;
    }
    if (c === QUOTE) {
      const prev = i === start ? COMMA : text.charCodeAt(i - 1);
      inQuotes = justClosed || prev === COMMA || prev === SEMICOLON;
    } else if (c === LF) {
      return { kind: "found", start, end: i, newline: "\n" };
    } else if (c === CR) {
      if (i + 1 < text.length) {
        return { kind: "found", start, end: i, newline: text.charCodeAt(i + 1) === LF ? "\n" : "\r" };
      }
      return complete ? { kind: "found", start, end: i, newline: "\r" } : { kind: "more" };
    }
    justClosed = false;
  }
  return complete ? { kind: "found", start, end: text.length, newline: "\n" } : { kind: "more" };
}
