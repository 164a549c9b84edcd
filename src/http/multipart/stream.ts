/**
 * A streaming multipart/form-data reader (RFC 7578) for CSV uploads of up to 100 MiB inside a
 * 128 MB isolate. The libraries at hand buffer each part whole (@remix-run/multipart-parser), so
 * this reads parts in order and hands out a part's body as a stream that pulls from the request
 * only as fast as it is consumed. A part's body must be read (or skipped) before the next part.
 */
import { AppError } from "../../lib/errors";

export interface StreamedPart {
  name: string | null;
  filename: string | null;
  /** The part's bytes; pulling it pulls the request body. */
  body: ReadableStream<Uint8Array>;
  text(limit?: number): Promise<string>;
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const HEADER_END = encoder.encode("\r\n\r\n");
const MAX_HEADER_BYTES = 16 * 1024;

export function boundaryOf(contentType: string | undefined): string | null {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType ?? "");
  return match ? ((match[1] ?? match[2]) as string) : null;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = haystack.length - needle.length;
  outer: for (
    let i = haystack.indexOf(first as number, from);
    i !== -1 && i <= last;
    i = haystack.indexOf(first as number, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const invalid = (detail: string) =>
  new AppError(400, "invalid_request", "Invalid multipart body", { detail });

function dispositionParam(header: string, param: string): string | null {
  const match = new RegExp(`;\\s*${param}="([^"]*)"|;\\s*${param}=([^;\\s]*)`, "i").exec(header);
  return match ? ((match[1] ?? match[2]) as string) : null;
}

export async function* multipartParts(
  body: ReadableStream<Uint8Array>,
  boundary: string,
): AsyncGenerator<StreamedPart> {
  const reader = body.getReader();
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  // Prepending CRLF lets the first boundary be found like every other one.
  let buffer: Uint8Array = CRLF;
  let done = false;

  const fill = async (): Promise<boolean> => {
    if (done) return false;
    const { value, done: end } = await reader.read();
    if (end) {
      done = true;
      return false;
    }
    buffer = concat(buffer, value);
    return true;
  };

  // Skip the preamble up to the first delimiter.
  for (;;) {
    const at = indexOf(buffer, delimiter);
    if (at !== -1) {
      buffer = buffer.subarray(at + delimiter.length);
      break;
    }
    if (buffer.length > delimiter.length) buffer = buffer.subarray(buffer.length - delimiter.length);
    if (!(await fill())) throw invalid("No multipart boundary found in the body");
  }
  for (;;) {
    // After a delimiter: "--" ends the body, CRLF starts a part.
    while (buffer.length < 2) if (!(await fill())) throw invalid("The multipart body ends inside a boundary");
    if (buffer[0] === 0x2d && buffer[1] === 0x2d) return;
    let headerEnd = indexOf(buffer, HEADER_END);
    while (headerEnd === -1) {
      if (buffer.length > MAX_HEADER_BYTES) throw invalid("A part's headers are too large");
      if (!(await fill())) throw invalid("The multipart body ends inside a part's headers");
      headerEnd = indexOf(buffer, HEADER_END);
    }
    const headers = new TextDecoder().decode(buffer.subarray(2, headerEnd));
    buffer = buffer.subarray(headerEnd + HEADER_END.length);
    const disposition = headers.split("\r\n").find((l) => /^content-disposition:/i.test(l)) ?? "";

    let finished = false;
    const partBody = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          for (;;) {
            const at = indexOf(buffer, delimiter);
            if (at !== -1) {
              if (at > 0) controller.enqueue(buffer.slice(0, at));
              buffer = buffer.subarray(at + delimiter.length);
              finished = true;
              controller.close();
              return;
            }
            // Everything but a possible partial delimiter at the end can go out now.
            const safe = buffer.length - (delimiter.length - 1);
            if (safe > 0) {
              controller.enqueue(buffer.slice(0, safe));
              buffer = buffer.subarray(safe);
              return;
            }
            if (!(await fill())) {
              controller.error(invalid("The multipart body ends inside a part"));
              return;
            }
          }
        },
      },
      { highWaterMark: 0 },
    );
    const part: StreamedPart = {
      name: dispositionParam(disposition, "name"),
      filename: dispositionParam(disposition, "filename"),
      body: partBody,
      async text(limit = 64 * 1024) {
        const r = partBody.getReader();
        let bytes: Uint8Array = new Uint8Array(0);
        for (;;) {
          const { value, done: end } = await r.read();
          if (end) break;
          bytes = concat(bytes, value);
          if (bytes.length > limit) throw invalid(`Field ${part.name ?? "?"} is too long`);
        }
        return new TextDecoder().decode(bytes);
      },
    };
    yield part;
    // Skip whatever of the part the consumer left unread.
    if (!finished) {
      const r = partBody.getReader();
      while (!(await r.read()).done) {}
    }
  }
}
