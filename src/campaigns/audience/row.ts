import { normalizePhone } from "../../phone";
import type { AudienceOptions, AudienceRow } from "./types";

/**
 * The checks of one recipient, shared by CSV and JSON audiences, in the order api.md gives for a
 * single send: the template's parameter count first, then the number. A row whose column count is
 * off is reported as such even when its phone cell looks fine — with columns shifted, that cell may
 * not be the phone at all.
 */
export function toAudienceRow(
  row: number,
  written: string,
  params: string[],
  opts: Pick<AudienceOptions, "defaultRegion" | "paramCount">,
): AudienceRow {
  if (params.length !== opts.paramCount) {
    return { row, to: written, params, invalid: "template_params_mismatch" };
  }
  const phone = normalizePhone(written, opts.defaultRegion);
  return phone.ok
    ? { row, to: phone.e164, params, invalid: null }
    : { row, to: written, params, invalid: "invalid_phone" };
}
