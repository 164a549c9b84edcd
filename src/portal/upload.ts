/**
 * The bulk form's multipart body, streamed: the fields (the CSRF token first of all) are read and
 * checked before a byte of the file is, and the file reaches the CSV reader as a stream, so an
 * upload of up to 100 MiB never sits in memory.
 */
import { boundaryOf, multipartParts, type StreamedPart } from "../http/multipart/stream";
import { AppError } from "../lib/errors";
import { csrfRefused } from "./guard";

export interface BulkUpload {
  fields: Record<string, string>;
  /** The file part (null when the form had none); its body must be read before anything else. */
  file: StreamedPart | null;
  /** Lets go of the rest of the body once the file has been read. */
  finish(): Promise<void>;
}

const FIELD_LIMIT = 4096;
const MAX_FIELDS = 20;

/**
 * Reads parts up to the file. The generator is advanced by hand and left suspended at the file:
 * ending it (as a `return` out of a `for await` would) releases the body's reader, and the file's
 * stream could then not pull the rest of the body.
 */
export async function readBulkUpload(
  body: ReadableStream<Uint8Array> | null,
  contentType: string | undefined,
  checkToken: (token: string | undefined) => Promise<void>,
): Promise<BulkUpload> {
  const boundary = boundaryOf(contentType);
  if (!boundary || !body) {
    throw new AppError(400, "invalid_request", "Invalid form", { detail: "The form could not be read." });
  }
  const parts = multipartParts(body, boundary);
  const fields: Record<string, string> = {};
  let count = 0;
  let tokenChecked = false;
  const finish = async () => {
    await parts.return(undefined);
  };
  for (;;) {
    const { value: part, done } = await parts.next();
    if (done) break;
    if (part.name === "file") {
      // The token must come before the file (the portal's form puts it first).
      await checkToken(fields._csrf);
      tokenChecked = true;
      return { fields, file: part, finish };
    }
    if (++count > MAX_FIELDS) throw csrfRefused("Unexpected form fields.");
    if (part.name) fields[part.name] = await part.text(FIELD_LIMIT);
  }
  if (!tokenChecked) await checkToken(fields._csrf);
  return { fields, file: null, finish };
}
