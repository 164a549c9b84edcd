import { AppError } from "../../lib/errors";

export type InvalidReason = "invalid_phone" | "template_params_mismatch";

/** One recipient as read from an audience, valid or not (bad rows become `invalid` recipients). */
export interface AudienceRow {
  /**
   * CSV: the row number of the record in the file, header = 1 (see `csv.ts` for what a row is when
   * a quoted cell spans lines). JSON: the 0-based index in `audience`.
   */
  row: number;
  /** E.164 when valid; otherwise the number as written (trimmed in a CSV), shown back to the user. */
  to: string;
  params: string[];
  invalid: null | InvalidReason;
}

export interface AudienceOptions {
  /** ISO 3166 alpha-2 region of numbers written without a country code. */
  defaultRegion: string;
  /** Parameters the template takes; a row with another count is `template_params_mismatch`. */
  paramCount: number;
  /** Rows per yielded chunk (the caller's write unit). */
  chunkSize?: number;
}

export interface CsvAudienceOptions extends AudienceOptions {
  /** Bytes of body accepted before the 413 `payload_too_large` (api.md: 100 MiB for a CSV). */
  maxBytes?: number;
}

export const DEFAULT_CHUNK_SIZE = 1000;
export const DEFAULT_CSV_MAX_BYTES = 100 * 1024 * 1024;

export function invalidCsv(detail: string): AppError {
  return new AppError(400, "invalid_csv", "Invalid CSV", { detail });
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
