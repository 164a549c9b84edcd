import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { build } from "esbuild";
import { configDefaults, defineConfig } from "vitest/config";

// The Meta simulator runs beside the gateway as a second Worker, exactly as under `wrangler dev`.
// Auxiliary workers are not transformed by Vite, so it is bundled once here.
const simScript = ".tmp/sim/index.js";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => {
      await build({
        entryPoints: ["sim/src/index.ts"],
        bundle: true,
        format: "esm",
        platform: "neutral",
        target: "es2022",
        outfile: simScript,
        conditions: ["workerd", "worker", "browser"],
        mainFields: ["module", "main"],
        external: ["cloudflare:*", "node:*"],
        logLevel: "warning",
      });
      return {
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            META_GRAPH_URL: "http://meta-sim/v25.0",
            META_ACCESS_TOKEN: "test-meta-token",
            META_APP_SECRET: "test-app-secret",
            META_VERIFY_TOKEN: "test-verify-token",
            ADMIN_TOKEN: "test-admin-token",
            LOG_LEVEL: "silent",
            META_TIMEOUT_MS: "1500",
            // Everything shares one busy process here (runner, gateway, simulator, queue): its
            // arrival jitter is far above a real network's, so pacing tests get a wider allowance.
            PACING_JITTER_MS: "60",
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          },
          workers: [
            {
              name: "mmlite-meta-sim",
              modules: true,
              scriptPath: simScript,
              compatibilityDate: "2026-04-20",
              compatibilityFlags: ["nodejs_compat"],
              durableObjects: { SIM_STATE: { className: "SimState", useSQLite: true } },
              bindings: {
                SIM_ACCESS_TOKEN: "test-meta-token",
                SIM_APP_SECRET: "test-app-secret",
                SIM_GATEWAY_WEBHOOK_URL: "http://gateway.invalid/webhooks/meta",
              },
            },
          ],
        },
      };
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // Node-side black-box tests against `wrangler dev` (vitest.e2e.config.ts), never inside workerd.
    exclude: [...configDefaults.exclude, "test/e2e/**"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 20_000,
    // CI (.ci/run) sets VITEST_JSON_DIR to add up both test runs of `npm test`.
    reporters: process.env.VITEST_JSON_DIR
      ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON_DIR}/workers.json` }]]
      : ["default"],
  },
});
