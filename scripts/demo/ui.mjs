// Terminal output for `npm run demo`: numbers, a one-line progress bar (`\r` rewrites on a TTY, a
// line every few seconds otherwise) and plain aligned tables. No dependencies.
const tty = process.stdout.isTTY === true;
const color = tty && !process.env.NO_COLOR;
const wrap = (code) => (s) => (color ? `\x1b[${code}m${s}\x1b[0m` : String(s));
export const bold = wrap("1");
export const dim = wrap("2");
export const green = wrap("32");
export const yellow = wrap("33");
export const red = wrap("31");
export const cyan = wrap("36");

export const int = (n) =>
  typeof n === "number" && Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
export const pct = (x, digits = 1) =>
  typeof x === "number" && Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : "–";
export const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
export const perSec = (x) => (Number.isFinite(x) ? `${x.toFixed(1)}/s` : "–");

let silenced = false;
/** From now on only the caller's own console.log output appears (the run is being stopped). */
export function silence() {
  endLine();
  silenced = true;
}

export function step(n, text) {
  if (silenced) return;
  endLine();
  console.log(`\n${bold(`${n}.`)} ${text}`);
}
export const info = (text) => {
  if (silenced) return;
  endLine();
  console.log(`   ${text}`);
};
export const warn = (text) => {
  if (silenced) return;
  endLine();
  console.log(`   ${yellow("!")} ${text}`);
};

let open = false;
let lastPlain = 0;
let lastPlainText = "";
/** Rewrites the current line (TTY); elsewhere prints it at most every 2 s, or when `force`. */
export function liveLine(text, force = false) {
  if (silenced) return;
  if (tty) {
    process.stdout.write(`\r   ${text}\x1b[K`);
    open = true;
  } else if (force || (Date.now() - lastPlain >= 2000 && text !== lastPlainText)) {
    lastPlain = Date.now();
    lastPlainText = text;
    console.log(`   ${text}`);
  }
}
/** Ends a live line so the next output starts on a fresh one. */
export function endLine() {
  if (open) {
    process.stdout.write("\n");
    open = false;
  }
}

export function bar(done, total, width = 28) {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.floor(f * width);
  const part = f * width - full;
  const partial = full < width ? (part >= 0.5 ? "▌" : " ") : "";
  return `[${"█".repeat(full)}${partial}${" ".repeat(Math.max(0, width - full - partial.length))}]`;
}

/** Rows of cells; `align` per column: "l" or "r". Prints with a header rule, indented. */
export function table(headers, rows, align) {
  if (silenced) return;
  const all = [headers, ...rows].map((r) => r.map((c) => String(c ?? "")));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const fmt = (r) =>
    r
      .map((c, i) => {
        const pad = " ".repeat(widths[i] - [...c].length);
        return (align?.[i] ?? "l") === "r" ? pad + c : c + pad;
      })
      .join("  ")
      .trimEnd();
  endLine();
  console.log(`   ${bold(fmt(all[0]))}`);
  console.log(`   ${dim(widths.map((w) => "─".repeat(w)).join("  "))}`);
  for (const r of all.slice(1)) console.log(`   ${fmt(r)}`);
}
