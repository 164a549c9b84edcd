import { z } from "zod";

/**
 * Settings parsed once per isolate from the Worker's env ([vars], secrets, `--var` overrides).
 * A missing secret fails loudly at first use instead of sending unauthenticated calls to Meta.
 */
const ConfigSchema = z.object({
  META_GRAPH_URL: z.url(),
  META_ACCESS_TOKEN: z.string().min(1),
  META_APP_SECRET: z.string().min(1),
  META_VERIFY_TOKEN: z.string().min(1),
  ADMIN_TOKEN: z.string().min(8),
  DEFAULT_PHONE_REGION: z.string().length(2).default("BR"),
  MM_LITE_SYNC_HOURS: z.coerce.number().positive().default(24),
  /** Bound on every Graph call; a send that times out is reported as outcome unknown, never re-sent. */
  META_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /**
   * Arrival-time jitter (ms) between this gateway and Meta that pacing absorbs: sends are spaced
   * (1000 + J) / throughput ms apart, using 1000 / (1000 + J) of the cap (see src/gate/pacing.ts).
   */
  PACING_JITTER_MS: z.coerce.number().min(0).max(500).default(25),
  /**
   * Meta sends in flight per consumer invocation. Cloudflare lets an invocation wait on six
   * connections at once; more would queue inside the runtime with their timeouts running.
   */
  MAX_SENDS_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(6),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
});

export type Config = z.infer<typeof ConfigSchema>;

let cached: { env: Env; config: Config } | undefined;

export function getConfig(env: Env): Config {
  if (cached?.env === env) return cached.config;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    // Names only: values may be secrets.
    const names = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new Error(`Invalid configuration: ${names}`);
  }
  cached = { env, config: parsed.data };
  return parsed.data;
}
