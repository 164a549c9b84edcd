import { toAudienceRow } from "./row";
import { type AudienceOptions, type AudienceRow, DEFAULT_CHUNK_SIZE, positiveInteger } from "./types";

export interface JsonRecipient {
  to: string;
  params?: readonly string[];
}

/**
 * A JSON audience is already parsed (the body is capped at 10 MiB), so this only checks and chunks
 * it, with the same chunk shape as a CSV so the caller has a single write path. `row` is the index.
 */
export async function* jsonAudience(
  items: readonly JsonRecipient[],
  opts: AudienceOptions,
): AsyncGenerator<AudienceRow[], void, undefined> {
  const chunkSize = positiveInteger("chunkSize", opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  for (let start = 0; start < items.length; start += chunkSize) {
    const chunk: AudienceRow[] = [];
    const end = Math.min(items.length, start + chunkSize);
    for (let i = start; i < end; i++) {
      const item = items[i] as JsonRecipient;
      chunk.push(toAudienceRow(i, item.to, item.params ? [...item.params] : [], opts));
    }
    yield chunk;
  }
}
