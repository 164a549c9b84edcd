/**
 * Audience intake: CSV (streamed) or JSON recipients → checked rows in chunks, ready for the
 * caller to write. Knows nothing of D1 or HTTP; throws AppErrors (`invalid_csv`,
 * `payload_too_large`) for a file that cannot be read at all. Bad rows are rows too (`invalid`).
 */
export { csvAudience } from "./csv";
export {
  type Delimiter,
  detectDelimiter,
  findPhoneColumn,
  locateHeader,
  PHONE_COLUMN_NAMES,
  type PhoneColumn,
  splitRecord,
} from "./header";
export { type JsonRecipient, jsonAudience } from "./json";
export { MAX_RECORD_CHARS } from "./records";
export {
  type AudienceOptions,
  type AudienceRow,
  type CsvAudienceOptions,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CSV_MAX_BYTES,
  type InvalidReason,
} from "./types";
