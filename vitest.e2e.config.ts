import { defineConfig } from "vitest/config";

/**
 * Black-box end-to-end tests: Node-side, against the gateway under a real `wrangler dev` and an
 * independent Meta fake (test/e2e/). Files end in `.e2e.ts` so the Workers-pool config never runs them.
 */
export default defineConfig({
  test: {
    name: "e2e",
    environment: "node",
    include: ["test/e2e/**/*.e2e.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 240_000,
    teardownTimeout: 30_000,
    reporters: process.env.VITEST_JSON_DIR
      ? ["default", ["json", { outputFile: `${process.env.VITEST_JSON_DIR}/e2e.json` }]]
      : ["default"],
  },
});
