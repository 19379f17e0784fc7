import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const csv = z.string().transform((v) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
const ms = z.coerce.number().int().nonnegative();

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    PUBLIC_BASE_URL: z.string().url().optional(),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),

    DATABASE_URL: z.string().default("postgres://postgres@127.0.0.1:5432/plant_community"),
    DATABASE_REPLICA_URL: z.string().optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(10),
    READ_AFTER_WRITE_WINDOW_MS: ms.default(5_000),
    REPLICA_MAX_LAG_MS: ms.default(10_000),
    REPLICA_HEALTH_INTERVAL_MS: ms.default(2_000),

    REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
    REDIS_SENTINELS: csv.optional(),
    REDIS_SENTINEL_NAME: z.string().default("mymaster"),
    REDIS_KEY_PREFIX: z.string().default("pc:"),
    REDIS_COMMAND_TIMEOUT_MS: ms.default(1_000),

    SPECIES_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
    MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    READY_CHECK_TIMEOUT_MS: ms.default(1_000),
    SHUTDOWN_TIMEOUT_MS: ms.default(10_000),
    LEGACY_SUNSET: z.coerce.date().default(new Date("2027-06-30T23:59:59Z")),
    LEGACY_DEPRECATED_AT: z.coerce.date().default(new Date("2026-11-01T00:00:00Z")),
    HSTS_MAX_AGE_SECONDS: z.coerce.number().int().default(63_072_000),
    TRUST_PROXY_HEADER: z.string().optional(),
    SEED_ON_START: z.boolean().or(bool).default(true),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === "production" && !env.PUBLIC_BASE_URL) {
      ctx.addIssue({ code: "custom", path: ["PUBLIC_BASE_URL"], message: "required in production" });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export type Config = Readonly<{
  env: Env["NODE_ENV"];
  port: number;
  host: string;
  publicBaseUrl: string | undefined;
  logLevel: Env["LOG_LEVEL"];
  db: Readonly<{
    primaryUrl: string;
    replicaUrl: string | undefined;
    poolMax: number;
    readAfterWriteWindowMs: number;
    replicaMaxLagMs: number;
    replicaHealthIntervalMs: number;
  }>;
  redis: Readonly<{
    url: string;
    sentinels: string[] | undefined;
    sentinelName: string;
    keyPrefix: string;
    commandTimeoutMs: number;
  }>;
  cache: Readonly<{ speciesTtlSeconds: number }>;
  http: Readonly<{
    maxBodyBytes: number;
    readyCheckTimeoutMs: number;
    shutdownTimeoutMs: number;
    legacySunset: Date;
    legacyDeprecatedAt: Date;
    hstsMaxAgeSeconds: number;
    trustProxyHeader: string | undefined;
  }>;
  seedOnStart: boolean;
}>;

export function parseConfig(source: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return deepFreeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    logLevel: e.LOG_LEVEL,
    db: {
      primaryUrl: e.DATABASE_URL,
      replicaUrl: e.DATABASE_REPLICA_URL || undefined,
      poolMax: e.DATABASE_POOL_MAX,
      readAfterWriteWindowMs: e.READ_AFTER_WRITE_WINDOW_MS,
      replicaMaxLagMs: e.REPLICA_MAX_LAG_MS,
      replicaHealthIntervalMs: e.REPLICA_HEALTH_INTERVAL_MS,
    },
    redis: {
      url: e.REDIS_URL,
      sentinels: e.REDIS_SENTINELS,
      sentinelName: e.REDIS_SENTINEL_NAME,
      keyPrefix: e.REDIS_KEY_PREFIX,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    },
    cache: { speciesTtlSeconds: e.SPECIES_CACHE_TTL_SECONDS },
    http: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      readyCheckTimeoutMs: e.READY_CHECK_TIMEOUT_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      legacySunset: e.LEGACY_SUNSET,
      legacyDeprecatedAt: e.LEGACY_DEPRECATED_AT,
      hstsMaxAgeSeconds: e.HSTS_MAX_AGE_SECONDS,
      trustProxyHeader: e.TRUST_PROXY_HEADER?.toLowerCase(),
    },
    seedOnStart: e.SEED_ON_START,
  });
}

/** The only reader of process.env in src/. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
