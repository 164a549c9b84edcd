import fc from "fast-check";
import examples from "libphonenumber-js/examples.mobile.json";
import {
  type CountryCode,
  getCountries,
  getExampleNumber,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";
import { describe, expect, it } from "vitest";
import { normalizePhone } from "../../src/phone/normalize";

const valid = (e164: string) => ({ ok: true, e164, digits: e164.slice(1) });
const invalid = { ok: false, reason: "invalid_phone" };

/** The library's own answer, the fast path's reference. */
function reference(text: string, region?: CountryCode): string | null {
  const p = parsePhoneNumberFromString(text, region);
  return p?.isValid() ? p.number : null;
}

describe("normalizePhone: api.md examples", () => {
  it.each([
    ["+55 11 99999-0001", "BR", "+5511999990001"],
    ["5511999990001", "BR", "+5511999990001"],
    ["11 99999-0001", "BR", "+5511999990001"],
    ["(11) 99999-0001", "BR", "+5511999990001"],
    ["0 11 99999-0001", "BR", "+5511999990001"],
    ["(415) 555-2671", "US", "+14155552671"],
    ["415.555.2671", "US", "+14155552671"],
    ["+1 (415) 555-2671", "BR", "+14155552671"],
  ])("%s (%s) → %s", (input, region, e164) => {
    expect(normalizePhone(input, region)).toEqual(valid(e164));
  });

  it("defaults to Brazil", () => {
    expect(normalizePhone("11 99999-0001")).toEqual(valid("+5511999990001"));
  });

  it("digits with a country code win over the national reading", () => {
    // 14155552671 is both "+1 415…" and not a Brazilian number; 5511… is Brazil's code.
    expect(normalizePhone("14155552671", "BR")).toEqual(valid("+14155552671"));
    expect(normalizePhone("5511999990001", "US")).toEqual(valid("+5511999990001"));
  });

  it("contract: the country-code reading wins even when the national one is valid too", () => {
    // Known cost of api.md's order, measured: ~18 % of Brazilian mobiles written without 55 (area
    // codes 33, 34, 51, 66, 79, 81, 84, …) and ~10 % of US numbers written without 1 are valid
    // numbers of another country. These are the documented answers, not the ones a person meant.
    expect(normalizePhone("51 99999-0001", "BR")).toEqual(valid("+51999990001")); // Peru, not Porto Alegre
    expect(normalizePhone("201-555-0123", "US")).toEqual(valid("+2015550123")); // Egypt, not New Jersey
  });

  it.each([
    "12ab",
    "",
    "   ",
    "+",
    "++5511999990001",
    "55+11999990001",
    "5511999990001 ext. 3",
    "abc",
    "+55 11 9999x-0001",
  ])("%j is invalid", (input) => {
    expect(normalizePhone(input, "BR")).toEqual(invalid);
  });

  it("refuses overlong input", () => {
    expect(normalizePhone("1".repeat(18), "BR")).toEqual(invalid);
    expect(normalizePhone(`+55 11 99999-0001${" ".repeat(60)}`, "BR")).toEqual(invalid);
    expect(normalizePhone("+5511999990001234", "BR")).toEqual(invalid);
  });

  it("requires a valid number, not merely a possible one", () => {
    expect(normalizePhone("+5511899990001", "BR")).toEqual(invalid); // 9-digit mobile must start with 9
    expect(normalizePhone("+551199999000", "BR")).toEqual(invalid); // pre-2016 8-digit mobile
    expect(normalizePhone("+5500999990001", "BR")).toEqual(invalid); // no area code 00
    expect(normalizePhone("+11235550100", "BR")).toEqual(invalid); // NANP area codes never start with 1
  });

  it("writes of the same number normalise equal", () => {
    const writes = [
      "+55 11 99999-0001",
      "5511999990001",
      "+55 (11) 99999.0001",
      "11999990001",
      " 011 99999 0001 ",
    ];
    const results = new Set(writes.map((w) => JSON.stringify(normalizePhone(w, "BR"))));
    expect([...results]).toEqual([JSON.stringify(valid("+5511999990001"))]);
  });

  it.each([
    ["BR", "+5521987654321", "(21) 98765-4321"],
    ["BR", "+551133334444", "11 3333-4444"], // landline: WhatsApp Business accounts live there too
    ["US", "+12125550123", "212-555-0123"],
    ["PT", "+351912345678", "912 345 678"],
    ["IN", "+919876543210", "098765 43210"],
    ["DE", "+4915123456789", "0151 23456789"],
    ["GB", "+447400123456", "07400 123456"],
  ])("%s: %s and its national form %s", (region, e164, national) => {
    expect(normalizePhone(e164, "BR")).toEqual(valid(e164));
    expect(normalizePhone(national, region)).toEqual(valid(e164));
  });

  it("takes the region in any case, and ignores an unknown one", () => {
    expect(normalizePhone("11 99999-0001", "br")).toEqual(valid("+5511999990001"));
    expect(normalizePhone("11 99999-0001", "XX")).toEqual(invalid);
    expect(normalizePhone("+5511999990001", "XX")).toEqual(valid("+5511999990001"));
  });
});

const exampleNumbers = getCountries()
  .map((c) => getExampleNumber(c, examples)?.number)
  .filter((n): n is NonNullable<typeof n> => n !== undefined);

const digitString = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""));

describe("normalizePhone: properties", () => {
  it("every region's example mobile is valid, and normalising it again is the identity", () => {
    expect(exampleNumbers.length).toBeGreaterThan(200);
    for (const n of exampleNumbers) {
      const once = normalizePhone(n, "BR");
      expect(once).toEqual(valid(n));
      if (once.ok) expect(normalizePhone(once.e164, "US")).toEqual(once);
    }
  });

  it("normalising is idempotent", () => {
    fc.assert(
      fc.property(digitString(6, 15), fc.constantFrom("BR", "US", "PT", "IN", "DE", "GB"), (d, region) => {
        const once = normalizePhone(d, region);
        if (!once.ok) return;
        expect(normalizePhone(once.e164, region)).toEqual(once);
        expect(normalizePhone(once.digits, region)).toEqual(once);
      }),
      { numRuns: 2000 },
    );
  });

  it("separators never change the result", () => {
    const sep = fc.constantFrom("", " ", "-", ".", "(", ")", "  ");
    fc.assert(
      fc.property(fc.constantFrom(...exampleNumbers), fc.infiniteStream(sep), (e164, seps) => {
        const digits = e164.slice(1).split("");
        const written = `+${digits.map((d) => `${seps.next().value}${d}`).join("")}`;
        expect(normalizePhone(written, "BR")).toEqual(valid(e164));
      }),
    );
  });

  it("agrees with libphonenumber's full parser (the fast path changes nothing)", () => {
    fc.assert(
      fc.property(
        digitString(4, 16),
        fc.constantFrom<CountryCode>("BR", "US", "PT", "IN", "DE", "GB"),
        (d, region) => {
          expect(normalizePhone(`+${d}`, region)).toEqual(withReference(reference(`+${d}`)));
          const expected = reference(`+${d}`) ?? reference(d, region);
          expect(normalizePhone(d, region)).toEqual(withReference(expected));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("agrees with the full parser near valid numbers (one digit changed)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...exampleNumbers),
        fc.nat(),
        fc.integer({ min: 0, max: 9 }),
        (e164, pos, digit) => {
          const d = e164.slice(1).split("");
          d[pos % d.length] = String(digit);
          const text = `+${d.join("")}`;
          expect(normalizePhone(text, "BR")).toEqual(withReference(reference(text)));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("agrees with the full parser when a national prefix follows the country code", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...exampleNumbers),
        fc.constantFrom("0", "1", "8", "06", "00", "9"),
        (e164, prefix) => {
          const p = parsePhoneNumberFromString(e164);
          if (!p) return;
          const text = `+${p.countryCallingCode}${prefix}${p.nationalNumber}`;
          expect(normalizePhone(text, "BR")).toEqual(withReference(reference(text)));
          expect(normalizePhone(text.slice(1), "BR")).toEqual(
            withReference(reference(text) ?? reference(text.slice(1), "BR")),
          );
        },
      ),
      { numRuns: 3000 },
    );
    // The forgiving reading itself.
    expect(normalizePhone("+44 (0)20 7183 8750", "BR")).toEqual(valid("+442071838750"));
  });
});

function withReference(e164: string | null) {
  return e164 === null ? invalid : valid(e164);
}
