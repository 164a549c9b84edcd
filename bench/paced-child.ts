/**
 * The paced control sender in a process of its own (see run.ts `besideControl`): its timers must
 * not share an event loop with the tap, whose timestamps are the gateway's figures.
 * argv: url, authorization header, number of sends, interval (ms); prints the PacedResult as JSON.
 */

import { bareBodies } from "./bodies";
import { pacedLoop } from "./http";

const [url, authorization, n, intervalMs] = process.argv.slice(2);
const result = await pacedLoop(
  url as string,
  { authorization: authorization as string },
  bareBodies(Number(n)),
  Number(intervalMs),
);
process.stdout.write(JSON.stringify(result));
