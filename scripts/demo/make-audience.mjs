#!/usr/bin/env node
// Writes examples/audience.csv, the demo's audience (`npm run demo`): 2,000 valid Brazilian mobile
// numbers written the ways people write them, plus a few rows the gateway must set aside (invalid
// numbers, a row with a missing parameter) and a few duplicates (the same number written
// differently). Deterministic: the same file on every run. Columns: phone, then the `fall_sale`
// pt_BR template's parameters in order ("Olá {{1}}, a liquidação vai até {{2}}!").
//   node scripts/demo/make-audience.mjs [count=2000] [out=examples/audience.csv]
import { writeFileSync } from "node:fs";
import { isValidPhoneNumber, parsePhoneNumberFromString } from "libphonenumber-js/max";

const count = Number(process.argv[2] ?? 2000);
const out = process.argv[3] ?? "examples/audience.csv";

let seed = 20261129;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = (list) => list[Math.floor(rand() * list.length)];

const names = [
  "Ana",
  "Bruno",
  "Carla",
  "Daniel",
  "Eduarda",
  "Felipe",
  "Gabriela",
  "Henrique",
  "Isabela",
  "João",
  "Júlia",
  "Lucas",
  "Luíza",
  "Marcos",
  "Maria",
  "Natália",
  "Otávio",
  "Paula",
  "Rafael",
  "Sofia",
  "Thiago",
  "Vitória",
  "Conceição",
  "José",
  "Lúcia",
  "Antônio",
  "Cecília",
  "Márcio",
  "Letícia",
  "Caio",
];
const until = ["30/11", "01/12", "02/12"];
const areas = ["11", "21", "31", "41", "47", "51", "61", "71", "81", "85", "91", "27"];

/** One way of writing +55 AA 9XXXX-XXXX, as found in real contact lists. */
function written(area, sub, style) {
  const a = sub.slice(0, 5);
  const b = sub.slice(5);
  switch (style) {
    case 0:
      return `+55 ${area} ${a}-${b}`;
    case 1:
      return `+55${area}${sub}`;
    case 2:
      return `55${area}${sub}`;
    case 3:
      return `(${area}) ${a}-${b}`;
    default:
      return `${area} ${sub}`;
  }
}

/**
 * The number the gateway reads from `text` (api.md "Phone numbers"): with "+" international;
 * without, first as digits that begin with a country code, then as a Brazilian national number.
 * "(51) 99282-0163" is read as Peru's +51 992820163 by that rule, so such spellings are avoided.
 */
function gatewayReads(text) {
  const digits = text.replace(/\D/g, "");
  if (text.trim().startsWith("+")) return parsePhoneNumberFromString(`+${digits}`)?.number;
  const intl = parsePhoneNumberFromString(`+${digits}`);
  if (intl?.isValid()) return intl.number;
  const national = parsePhoneNumberFromString(digits, "BR");
  return national?.isValid() ? national.number : undefined;
}
/** `style` if the gateway reads it as `e164`, else the unambiguous international form. */
function spelled(area, sub, style) {
  const text = written(area, sub, style);
  return gatewayReads(text) === `+55${area}${sub}` ? text : written(area, sub, 0);
}

const csvCell = (v) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
const rows = [];
const seen = new Set();
while (rows.length < count) {
  const area = pick(areas);
  // Brazilian mobiles: 9 digits, the first a 9, the second 6–9 (what libphonenumber accepts).
  const sub = `9${6 + Math.floor(rand() * 4)}${String(Math.floor(rand() * 1e7)).padStart(7, "0")}`;
  const e164 = `+55${area}${sub}`;
  if (seen.has(e164) || !isValidPhoneNumber(e164)) continue;
  seen.add(e164);
  rows.push({ area, sub, phone: spelled(area, sub, rows.length % 5), name: pick(names), until: pick(until) });
}

const lines = rows.map((r) => [r.phone, r.name, r.until].map(csvCell).join(","));
// Rows the gateway keeps as `invalid` recipients (api.md "Campaign intake"), at fixed lines.
const invalid = [
  ["12ab", "Pedro", "30/11"], // not a number
  ["+55 11 1234-567", "Rita", "30/11"], // too short
  ["+55 11 89999-0001", "Sérgio", "30/11"], // 9 digits not starting with 9: not a Brazilian mobile
  ["", "Vera", "30/11"], // no number at all
  [written(rows[7].area, "9" + "55501234", 0), "Zeca"], // a parameter missing
];
// Duplicates: numbers already listed, written another way (the gateway de-duplicates on E.164).
const dupes = [rows[0], rows[1], rows[2]].map((r, i) => [
  spelled(r.area, r.sub, (i % 4) + 1),
  r.name,
  r.until,
]);
for (const [text] of dupes) if (!seen.has(gatewayReads(text))) throw new Error(`${text} is not a duplicate`);
const extra = [
  ...invalid.map((cells) => cells.map(csvCell).join(",")),
  ...dupes.map((cells) => cells.map(csvCell).join(",")),
];
// Spread the extra rows through the file.
for (const [i, line] of extra.entries()) lines.splice(40 + i * 230, 0, line);
// A name with a comma and quotes, to show RFC 4180 quoting end to end.
lines[3] = [rows[3].phone, 'Ana "Aninha" Silva, Jr.', rows[3].until].map(csvCell).join(",");

writeFileSync(out, `phone,name,until\n${lines.join("\n")}\n`);
console.log(`${out}: ${count} valid rows, ${invalid.length} invalid, ${dupes.length} duplicates`);
