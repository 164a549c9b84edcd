#!/usr/bin/env node
// `npm run dev`: gateway + Meta simulator in one `wrangler dev` process, local D1 migrated first.
// Extra arguments go to `wrangler dev` (e.g. `npm run dev -- --port 8788`); `--persist-to DIR` is
// also given to the migration step, so a fresh state directory starts with the schema.
// The simulator starts with the SIM_SEED fixtures (sim/wrangler.toml; see sim/README.md).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const extra = process.argv.slice(2);
if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example (local secrets)");
}

/** `--persist-to DIR` / `--persist-to=DIR` among the extra arguments, as migration arguments. */
function persistArgs(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--persist-to" && args[i + 1] !== undefined) return ["--persist-to", args[i + 1]];
    if (args[i].startsWith("--persist-to=")) return [args[i]];
  }
  return [];
}

const migrate = spawnSync(
  "npx",
  ["wrangler", "d1", "migrations", "apply", "DB", "--local", ...persistArgs(extra)],
  {
    stdio: "inherit",
    env: { ...process.env, CI: "true" }, // no interactive confirmation
  },
);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn("npx", ["wrangler", "dev", "-c", "wrangler.toml", "-c", "sim/wrangler.toml", ...extra], {
  stdio: "inherit",
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));
