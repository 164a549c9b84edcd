/**
 * The part of papaparse this module uses: its core parser (`Papa.Parser`, the engine behind all of
 * papaparse's streamers, typed as a class by DefinitelyTyped too). Declared here rather than by
 * installing @types/papaparse, whose `/// <reference types="node" />` would pull Node's globals into
 * the Worker's types for every file of the project.
 */
declare module "papaparse" {
  interface CoreParserConfig {
    delimiter: string;
    newline: "\n" | "\r" | "\r\n";
    quoteChar?: string;
  }

  interface CoreParseError {
    type: string;
    code: "MissingQuotes" | "InvalidQuotes" | string;
    message: string;
    /** Index in this call's `data` of the record the error is in (may be `data.length`: unfinished). */
    row: number;
    index: number;
  }

  interface CoreParseResult {
    data: string[][];
    errors: CoreParseError[];
    /** `cursor`: where the last complete record of this call ends (plus `baseIndex`). */
    meta: { cursor: number; aborted: boolean; truncated: boolean; delimiter: string; linebreak: string };
  }

  class CoreParser {
    constructor(config: CoreParserConfig);
    /** With `ignoreLastRow`, a record not ended by a line break is left out (it may continue). */
    parse(input: string, baseIndex: number, ignoreLastRow: boolean): CoreParseResult;
  }

  const Papa: { Parser: typeof CoreParser };
  export default Papa;
  export type { CoreParseError, CoreParseResult, CoreParser, CoreParserConfig };
}
