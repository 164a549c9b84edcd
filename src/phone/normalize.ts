/**
 * E.164 normalisation of recipient numbers (api.md, "Phone numbers").
 *
 * Metadata choice — `libphonenumber-js/max`, measured with esbuild --minify, gzip -9, for a bundle
 * that only parses and validates (libphonenumber-js 1.13.16):
 *   min    29 KB   accepts invalid Brazilian mobiles: +55 11 89999-0001 (9 digits not starting with 9)
 *                  and +55 11 9999-9000 (the pre-2016 8-digit form) are "valid" — wrong for our main market.
 *   mobile 34 KB   strict for mobiles, but every fixed line is invalid (+55 11 3333-4444,
 *                  +44 20 7183 8750, +351 21…, +49 30…), and WhatsApp Business app accounts do live
 *                  on landlines; refusing them as `invalid_phone` would drop real recipients.
 *   max    49 KB   what `isValidNumber` means in libphonenumber; +15 KB over `mobile`, ~1.5 % of the
 *                  1 MiB gzip Worker budget.
 * Speed: the full parser costs ≈10 µs per number (≈27 µs for +1), too much for a million-row CSV,
 * so numbers are first checked as written with `new PhoneNumber("+…").isValid()`; the parser
 * (national prefixes, carrier codes, shared and non-geographic codes) only sees what that refuses
 * and could still read differently. Measured in Node: ≈3 µs for "+55 11 9…" or "5511 9…", ≈8 µs for
 * "(11) 9…-…", 0.1 µs for junk. The tests check the answers against the full parser.
 */
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  isSupportedCountry,
  Metadata,
  PhoneNumber,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";

export type PhoneResult = { ok: true; e164: string; digits: string } | { ok: false; reason: "invalid_phone" };

const INVALID: PhoneResult = Object.freeze({ ok: false, reason: "invalid_phone" });

/** Longer input is not a phone number; refusing it early keeps hostile CSV cells cheap. */
const MAX_INPUT_LENGTH = 64;
/** E.164 allows 15 digits; a national form may add a trunk prefix and a carrier code (BR: 0 + 2). */
const MAX_DIGITS = 17;

/** Countries of each geographic calling code (non-geographic codes are left to the parser). */
const COUNTRIES_BY_CODE = new Map<string, CountryCode[]>();
for (const country of getCountries()) {
  const cc = getCountryCallingCode(country);
  const list = COUNTRIES_BY_CODE.get(cc);
  if (list) list.push(country);
  else COUNTRIES_BY_CODE.set(cc, [country]);
}
const CALLING_CODES: ReadonlySet<string> = new Set(COUNTRIES_BY_CODE.keys());
/** Calling codes shared by several countries (+1, +7, +44, …). */
const SHARED_CODES = new Map([...COUNTRIES_BY_CODE].filter(([, countries]) => countries.length > 1));

let lastRegion = "";
let lastRegionCode: CountryCode | undefined;
let lastCallingCode: string | undefined;

/**
 * `input` as typed by a person or a CSV: digits with optional spaces, dashes, dots and parentheses,
 * international when it starts with `+`. Without `+` it is first read as digits that begin with a
 * country code, then as a national number of `defaultRegion` (ISO 3166 alpha-2). Only numbers that
 * libphonenumber considers *valid* (not merely possible) are accepted.
 * That order is the contract's, and it has a cost: a national number whose digits also form a valid
 * foreign number is read as the foreign one ("51 99999-0001" is Peru, not Porto Alegre; about 18 %
 * of Brazilian mobiles written without 55 and 10 % of US numbers written without 1 are affected).
 */
export function normalizePhone(input: string, defaultRegion = "BR"): PhoneResult {
  const cleaned = clean(input);
  if (cleaned === null) return INVALID;
  if (cleaned.charCodeAt(0) === 43 /* + */) return international(cleaned) ?? INVALID;

  const asInternational = international(`+${cleaned}`);
  if (asInternational) return asInternational;

  selectRegion(defaultRegion);
  if (!lastRegionCode || !lastCallingCode) return INVALID;
  const fast = validAsWritten(`+${lastCallingCode}${cleaned}`);
  if (fast) return ok(fast);
  const parsed = parsePhoneNumberFromString(cleaned, lastRegionCode);
  return parsed?.isValid() ? ok(parsed.number) : INVALID;
}

/** `+digits` → the valid number it denotes, or null. */
function international(plusDigits: string): PhoneResult | null {
  const cc = callingCodeOf(plusDigits);
  if (cc !== null) {
    const fast = validAsWritten(plusDigits);
    if (fast) return ok(fast);
    if (!parserMayDiffer(cc, plusDigits.slice(1 + cc.length))) return null;
  }
  const parsed = parsePhoneNumberFromString(plusDigits);
  return parsed?.isValid() ? ok(parsed.number) : null;
}

/**
 * Could the full parser find a valid number in `+cc nsn`, which the fast path found invalid? It
 * differs from the fast path in two ways:
 *  - a calling code shared by several countries (+1, +7, +44, …): the fast path checks the main
 *    country's plan (US for +1), the parser first picks the country (+1 268… is Antigua);
 *  - it forgives a national prefix written after the country code (+44 0 20…).
 * When neither can produce a valid number, its answer is known and it need not run. That matters:
 * for +1 the parser tries every NANP country (≈27 µs), and every São Paulo number written without
 * 55 ("11 9…") is first read as +1 1….
 */
function parserMayDiffer(cc: string, nsn: string): boolean {
  if (mayBelongToAnotherCountry(cc, nsn)) return true;
  const prefix = nationalPrefixPattern(cc);
  if (prefix === undefined) return true;
  if (prefix === null) return false;
  const match = prefix.exec(nsn);
  if (!match) return false;
  // Capture groups mean carrier codes or rewrite rules (BR, CO, AR, …): leave those to the parser.
  for (let i = 1; i < match.length; i++) if (match[i]) return true;
  const stripped = nsn.slice(match[0].length);
  return (
    stripped.length === 0 ||
    validAsWritten(`+${cc}${stripped}`) !== null ||
    mayBelongToAnotherCountry(cc, stripped)
  );
}

/** A valid number always matches its country's general pattern; none matching means invalid. */
function mayBelongToAnotherCountry(cc: string, nsn: string): boolean {
  const countries = SHARED_CODES.get(cc);
  if (!countries) return false;
  const pattern = sharedPattern(cc, countries);
  return pattern === undefined || pattern.test(nsn);
}

/** The geographic calling code `+digits` starts with (they are prefix-free, 1–3 digits), or null. */
function callingCodeOf(plusDigits: string): string | null {
  for (let len = 1; len <= 3 && len + 1 < plusDigits.length; len++) {
    const cc = plusDigits.slice(1, 1 + len);
    if (CALLING_CODES.has(cc)) return cc;
  }
  return null;
}

/** Valid exactly as written (calling code + national significant number), or null. */
function validAsWritten(plusDigits: string): string | null {
  try {
    const number = new PhoneNumber(plusDigits);
    return number.isValid() ? number.number : null;
  } catch {
    return null;
  }
}

/**
 * Two details of the numbering plans that the typed API does not expose (the parser's national
 * prefix pattern and each country's general pattern) are read from the library's Metadata class.
 * If a release renames them the readers answer undefined and the full parser simply always runs:
 * slower, never wrong.
 */
interface PlanInternals {
  nationalPrefixForParsing?: unknown;
  nationalNumberPattern?: unknown;
}
const plans = new Metadata();

function planString(select: string, read: keyof PlanInternals): string | null | undefined {
  try {
    plans.selectNumberingPlan(select as CountryCode);
    const plan = (plans as { numberingPlan?: PlanInternals }).numberingPlan;
    const method = plan?.[read];
    if (typeof method !== "function") return undefined;
    const value: unknown = method.call(plan);
    return typeof value === "string" && value.length > 0 ? value : null;
  } catch {
    return undefined;
  }
}

const prefixPatterns = new Map<string, RegExp | null | undefined>();

/** The parser's national prefix pattern after this calling code (null: none, undefined: unknown). */
function nationalPrefixPattern(cc: string): RegExp | null | undefined {
  if (prefixPatterns.has(cc)) return prefixPatterns.get(cc);
  // Like the parser: a calling code selects its main country's plan (US for +1).
  const source = planString(cc, "nationalPrefixForParsing");
  const pattern = typeof source === "string" ? new RegExp(`^(?:${source})`) : source;
  prefixPatterns.set(cc, pattern);
  return pattern;
}

const sharedPatterns = new Map<string, RegExp | undefined>();

/** Any country's general pattern for a shared calling code (undefined: unknown). */
function sharedPattern(cc: string, countries: readonly CountryCode[]): RegExp | undefined {
  if (sharedPatterns.has(cc)) return sharedPatterns.get(cc);
  const sources: string[] = [];
  for (const country of countries) {
    const source = planString(country, "nationalNumberPattern");
    if (typeof source !== "string") {
      sources.length = 0;
      break;
    }
    sources.push(`(?:${source})`);
  }
  const pattern = sources.length > 0 ? new RegExp(`^(?:${sources.join("|")})$`) : undefined;
  sharedPatterns.set(cc, pattern);
  return pattern;
}

function ok(e164: string): PhoneResult {
  return { ok: true, e164, digits: e164.slice(1) };
}

function selectRegion(region: string): void {
  if (region === lastRegion) return;
  lastRegion = region;
  const upper = region.toUpperCase();
  if (isSupportedCountry(upper)) {
    lastRegionCode = upper;
    lastCallingCode = getCountryCallingCode(upper);
  } else {
    lastRegionCode = undefined;
    lastCallingCode = undefined;
  }
}

/**
 * Digits (with a leading `+` when given) or null when the input holds anything but digits and the
 * usual separators. Stricter than libphonenumber, which would dig "12" out of "12ab".
 */
function clean(input: string): string | null {
  if (input.length === 0 || input.length > MAX_INPUT_LENGTH) return null;
  let out = "";
  let digits = 0;
  let plus = false;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > MAX_DIGITS) return null;
      out += input[i];
    } else if (c === 43 /* + */) {
      // Only once, and before any digit.
      if (plus || digits > 0) return null;
      plus = true;
    } else if (!isSeparator(c)) {
      return null;
    }
  }
  if (digits === 0) return null;
  return plus ? `+${out}` : out;
}

/** Space, tab, no-break spaces, `-`, `.`, `(`, `)`. */
function isSeparator(c: number): boolean {
  return c === 32 || c === 9 || c === 45 || c === 46 || c === 40 || c === 41 || c === 0xa0 || c === 0x202f;
}
