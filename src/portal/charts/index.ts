/**
 * Server-rendered SVG charts of a campaign's performance (pure: numbers in, markup out).
 *
 * Every chart is a `<figure>`: a visible caption, an `<svg role="img">` named by its `<title>` and
 * described by a `<desc>` that states the numbers in words, and the same numbers as a table
 * (`<details>`), so nothing is conveyed by colour or shape alone. Series differ by colour *and*
 * by label, dash pattern or position; every colour has at least 3:1 contrast on white.
 */
export * from "./bars";
export { COLORS, type Fill, W } from "./frame";
export * from "./maths";
export * from "./timeline";
