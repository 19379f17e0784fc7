import { z } from "zod";
import { type AccountDataConfig, AccountDataEnvShape, accountDataConfig } from "./config-account-data.ts";
import { type BreakerConfig, BreakerEnvShape, breakerConfig } from "./config-breakers.ts";
import { type CspConfig, CspEnvShape, cspConfig } from "./config-csp.ts";
import { checkGraphqlEnv, type GraphqlConfig, GraphqlEnvShape, graphqlConfig } from "./config-graphql.ts";
import {
  checkIdentificationEnv,
  type IdentificationConfig,
  IdentificationEnvShape,
  identificationConfig,
} from "./config-identification.ts";
import {
  checkMediaOpsEnv,
  type MediaOpsConfig,
  MediaOpsEnvShape,
  mediaOpsConfig,
} from "./config-media-ops.ts";
import {
  type ObservabilityConfig,
  ObservabilityEnvShape,
  observabilityConfig,
} from "./config-observability.ts";
import { type BackgroundConfig, BackgroundEnvShape, backgroundConfig } from "./config-queues.ts";
import { type ReadsConfig, ReadsEnvShape, readsConfig } from "./config-reads.ts";

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
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** A rate-limit policy written as `<limit>/<window>`, e.g. `5/15m`, `600/1m`, `100/1h`. */
const rate = z
  .string()
  .regex(/^\d+\/\d+[smhd]$/, "write <limit>/<window>, e.g. 5/15m")
  .transform((v) => {
    const [limit = "0", window = "0s"] = v.split("/");
    const seconds = Number(window.slice(0, -1)) * UNIT_SECONDS[window.slice(-1) as keyof typeof UNIT_SECONDS];
    return { limit: Number(limit), windowSeconds: seconds };
  })
  .refine((r) => r.limit > 0 && r.windowSeconds > 0, "limit and window must be positive");

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default("0.0.0.0"),
    // /metrics on its own port, reachable by Fly's scraper over the private network; 0 turns it off.
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9091),
    METRICS_HOST: z.string().default("0.0.0.0"),
    // When set, /metrics is also served on the public port to `Authorization: Bearer <token>`.
    METRICS_TOKEN: z.union([z.literal(""), z.string().min(16, "at least 16 characters")]).optional(),
    PUBLIC_BASE_URL: z.string().url().optional(),
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),

    DATABASE_URL: z.string().default("postgres://postgres@127.0.0.1:5432/plant_community"),
    DATABASE_REPLICA_URL: z.string().optional(),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(10),
    READ_AFTER_WRITE_WINDOW_MS: ms.default(15_000),
    REPLICA_MAX_LAG_MS: ms.default(10_000),
    REPLICA_HEALTH_INTERVAL_MS: ms.default(2_000),
    // Client-side deadlines on the database path (a dead server cannot enforce its own), see src/db/deadline.ts.
    DATABASE_CONNECT_TIMEOUT_MS: ms.min(100).default(2_000),
    DATABASE_ACQUIRE_TIMEOUT_MS: ms.min(10).default(2_000),
    DATABASE_STATEMENT_TIMEOUT_MS: ms.min(10).default(5_000),
    DATABASE_TRANSACTION_TIMEOUT_MS: ms.min(10).default(10_000),
    DATABASE_RECONNECT_MAX_MS: ms.min(10).default(500),
    // While a database is unreachable, requests are refused at once except one probe per interval.
    DATABASE_PROBE_INTERVAL_MS: ms.min(10).default(250),

    REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
    REDIS_SENTINELS: csv.optional(),
    REDIS_SENTINEL_NAME: z.string().default("mymaster"),
    REDIS_KEY_PREFIX: z.string().default("pc:"),
    REDIS_COMMAND_TIMEOUT_MS: ms.default(1_000),
    // Redis AUTH (also accepted inside REDIS_URL); with Sentinel, the masters' password.
    REDIS_PASSWORD: z.string().optional(),
    REDIS_USERNAME: z.string().optional(),
    // The Sentinels' own password (`requirepass` on the sentinels), when they have one.
    REDIS_SENTINEL_PASSWORD: z.string().optional(),
    // TLS to Redis (and to the Sentinels): `rediss://` URLs turn it on too.
    REDIS_TLS: z.boolean().or(bool).default(false),
    // The request path's breaker in front of Redis: opens after this many failures in a row, probes each cool-down.
    REDIS_BREAKER_FAILURES: z.coerce.number().int().min(1).default(3),
    REDIS_BREAKER_COOL_DOWN_MS: z.coerce.number().int().min(100).default(1_000),

    // 0 turns the species cache off (every read goes to the database).
    SPECIES_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
    MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    READY_CHECK_TIMEOUT_MS: ms.default(1_000),
    SHUTDOWN_TIMEOUT_MS: ms.default(10_000),
    // On SIGTERM /health answers 503 this long before the listener closes, so the proxy's health check routes
    // new requests elsewhere first (haproxy in the local fleet; on Fly the proxy also stops routing on stop).
    SHUTDOWN_DRAIN_DELAY_MS: ms.default(0),
    LEGACY_SUNSET: z.coerce.date().default(new Date("2027-06-30T23:59:59Z")),
    LEGACY_DEPRECATED_AT: z.coerce.date().default(new Date("2026-11-01T00:00:00Z")),
    HSTS_MAX_AGE_SECONDS: z.coerce.number().int().default(63_072_000),
    TRUST_PROXY_HEADER: z.string().optional(),
    TRUST_PROXY_COUNT: z.coerce.number().int().min(0).default(0),

    JWT_SECRET: z.string().min(32, "at least 32 characters").optional(),
    // Rotation: the old JWT_SECRET goes here (comma-separated) until its access tokens have expired.
    JWT_PREVIOUS_SECRETS: csv.pipe(z.array(z.string().min(32, "at least 32 characters"))).optional(),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(900),
    REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).default(30),
    ARGON2_MEMORY_KIB: z.coerce.number().int().min(1024).default(19_456),
    ARGON2_TIME_COST: z.coerce.number().int().min(1).default(2),
    RATE_LIMIT_LOGIN_IP: rate.prefault("5/15m"),
    RATE_LIMIT_REGISTER: rate.prefault("3/1h"),
    RATE_LIMIT_REFRESH: rate.prefault("30/1h"),
    RATE_LIMIT_IDENTIFY: rate.prefault("100/1h"),
    RATE_LIMIT_IDENTIFY_PREMIUM: rate.prefault("1000/1h"),
    RATE_LIMIT_DEFAULT: rate.prefault("600/1m"),
    RATE_LIMIT_CSP_REPORT: rate.prefault("120/1m"),
    // Sign-in throttling (src/modules/auth/login-throttle.ts): growing delays, never a hard lock.
    LOGIN_THROTTLE_NETWORK_FREE: z.coerce.number().int().min(1).default(5),
    LOGIN_THROTTLE_NETWORK_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).default(3600),
    LOGIN_THROTTLE_ACCOUNT_FREE: z.coerce.number().int().min(1).default(20),
    LOGIN_THROTTLE_ACCOUNT_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).default(900),
    LOGIN_THROTTLE_BASE_DELAY_SECONDS: z.coerce.number().int().min(1).default(60),
    LOGIN_THROTTLE_FORGET_SECONDS: z.coerce.number().int().min(60).default(86_400),
    LOGIN_CODE_TTL_SECONDS: z.coerce.number().int().min(60).default(900),
    RATE_LIMIT_AUTH_EMAILS: rate.prefault("3/1h"),
    EMAIL_VERIFY_TTL_HOURS: z.coerce.number().int().min(1).default(48),
    PASSWORD_RESET_TTL_MINUTES: z.coerce.number().int().min(5).default(60),
    UNVERIFIED_IDENTIFICATION_ALLOWANCE: z.coerce.number().int().min(0).default(3),
    // Where the links in account e-mails point (the app's universal links); default PUBLIC_BASE_URL.
    APP_LINK_BASE_URL: z.string().url().optional(),
    SEED_ON_START: z.boolean().or(bool).default(true),
    ...BackgroundEnvShape,
    ...IdentificationEnvShape,
    ...BreakerEnvShape,
    ...CspEnvShape,
    ...ObservabilityEnvShape,
    ...ReadsEnvShape,
    ...MediaOpsEnvShape,
    ...AccountDataEnvShape,
    ...GraphqlEnvShape,
  })
  .superRefine((env, ctx) => {
    checkIdentificationEnv(env, ctx);
    checkMediaOpsEnv(env, ctx);
    checkGraphqlEnv(env, ctx);
    if (env.NODE_ENV === "production" && !env.PUBLIC_BASE_URL) {
      ctx.addIssue({ code: "custom", path: ["PUBLIC_BASE_URL"], message: "required in production" });
    }
    if (env.NODE_ENV === "production" && !env.JWT_SECRET) {
      ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "required in production" });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export type RatePolicy = Readonly<{ limit: number; windowSeconds: number }>;
export type RateLimitName =
  | "loginIp"
  | "register"
  | "refresh"
  | "identify"
  | "identifyPremium"
  | "default"
  | "cspReport";

export type Config = Readonly<{
  env: Env["NODE_ENV"];
  port: number;
  host: string;
  metrics: Readonly<{ port: number; host: string; token: string | undefined }>;
  publicBaseUrl: string | undefined;
  logLevel: Env["LOG_LEVEL"];
  db: Readonly<{
    primaryUrl: string;
    replicaUrl: string | undefined;
    poolMax: number;
    readAfterWriteWindowMs: number;
    replicaMaxLagMs: number;
    replicaHealthIntervalMs: number;
    connectTimeoutMs: number;
    reconnectMaxMs: number;
    probeIntervalMs: number;
    deadlines: Readonly<{ acquireMs: number; statementMs: number; transactionMs: number }>;
  }>;
  redis: Readonly<{
    url: string;
    sentinels: string[] | undefined;
    sentinelName: string;
    keyPrefix: string;
    commandTimeoutMs: number;
    password: string | undefined;
    username: string | undefined;
    sentinelPassword: string | undefined;
    tls: boolean;
    breaker: Readonly<{ consecutiveFailures: number; coolDownMs: number }>;
  }>;
  cache: Readonly<{ speciesTtlSeconds: number }>;
  http: Readonly<{
    maxBodyBytes: number;
    readyCheckTimeoutMs: number;
    shutdownTimeoutMs: number;
    shutdownDrainDelayMs: number;
    legacySunset: Date;
    legacyDeprecatedAt: Date;
    hstsMaxAgeSeconds: number;
    trustProxyHeader: string | undefined;
    /** With no trusted header: how many proxies append to X-Forwarded-For in front of us (0 = use the socket). */
    trustProxyCount: number;
  }>;
  auth: Readonly<{
    jwtSecret: string;
    /** Retired signing secrets: their tokens still verify (by `kid`), new tokens never use them. */
    jwtPreviousSecrets: readonly string[];
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    argon2: Readonly<{ memoryCost: number; timeCost: number }>;
  }>;
  rateLimits: Readonly<Record<RateLimitName, RatePolicy>>;
  accountSecurity: Readonly<{
    throttle: Readonly<{
      networkFree: number;
      networkMaxDelaySeconds: number;
      accountFree: number;
      accountMaxDelaySeconds: number;
      baseDelaySeconds: number;
      forgetSeconds: number;
    }>;
    loginCodeTtlSeconds: number;
    /** Account e-mails (verification, reset, sign-in codes) per account and per client IP. */
    accountMail: RatePolicy;
    emailVerifyTtlSeconds: number;
    passwordResetTtlSeconds: number;
    unverifiedIdentificationAllowance: number;
    appLinkBaseUrl: string;
  }>;
  seedOnStart: boolean;
}> &
  BackgroundConfig &
  IdentificationConfig &
  BreakerConfig &
  CspConfig &
  ObservabilityConfig &
  ReadsConfig &
  MediaOpsConfig &
  AccountDataConfig &
  GraphqlConfig;

export function parseConfig(source: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(source);
  const issues = [...(parsed.success ? [] : parsed.error.issues), ...productionEndpointIssues(source)];
  if (!parsed.success || issues.length > 0) {
    const lines = issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return deepFreeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN || undefined },
    publicBaseUrl: e.PUBLIC_BASE_URL,
    logLevel: e.LOG_LEVEL,
    db: {
      primaryUrl: e.DATABASE_URL,
      replicaUrl: e.DATABASE_REPLICA_URL || undefined,
      poolMax: e.DATABASE_POOL_MAX,
      readAfterWriteWindowMs: e.READ_AFTER_WRITE_WINDOW_MS,
      replicaMaxLagMs: e.REPLICA_MAX_LAG_MS,
      replicaHealthIntervalMs: e.REPLICA_HEALTH_INTERVAL_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      reconnectMaxMs: e.DATABASE_RECONNECT_MAX_MS,
      probeIntervalMs: e.DATABASE_PROBE_INTERVAL_MS,
      deadlines: {
        acquireMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
        statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
        transactionMs: e.DATABASE_TRANSACTION_TIMEOUT_MS,
      },
    },
    redis: {
      url: e.REDIS_URL,
      sentinels: e.REDIS_SENTINELS,
      sentinelName: e.REDIS_SENTINEL_NAME,
      keyPrefix: e.REDIS_KEY_PREFIX,
      commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
      password: e.REDIS_PASSWORD || undefined,
      username: e.REDIS_USERNAME || undefined,
      sentinelPassword: e.REDIS_SENTINEL_PASSWORD || undefined,
      tls: e.REDIS_TLS || e.REDIS_URL.startsWith("rediss://"),
      breaker: { consecutiveFailures: e.REDIS_BREAKER_FAILURES, coolDownMs: e.REDIS_BREAKER_COOL_DOWN_MS },
    },
    cache: { speciesTtlSeconds: e.SPECIES_CACHE_TTL_SECONDS },
    http: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      readyCheckTimeoutMs: e.READY_CHECK_TIMEOUT_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      shutdownDrainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS,
      legacySunset: e.LEGACY_SUNSET,
      legacyDeprecatedAt: e.LEGACY_DEPRECATED_AT,
      hstsMaxAgeSeconds: e.HSTS_MAX_AGE_SECONDS,
      trustProxyHeader: e.TRUST_PROXY_HEADER?.toLowerCase(),
      trustProxyCount: e.TRUST_PROXY_COUNT,
    },
    auth: {
      // Outside production a per-process secret is fine: tokens simply stop working after a restart.
      jwtSecret:
        e.JWT_SECRET ?? Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
      jwtPreviousSecrets: e.JWT_PREVIOUS_SECRETS ?? [],
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_DAYS * 86_400,
      argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST },
    },
    rateLimits: {
      loginIp: e.RATE_LIMIT_LOGIN_IP,
      register: e.RATE_LIMIT_REGISTER,
      refresh: e.RATE_LIMIT_REFRESH,
      identify: e.RATE_LIMIT_IDENTIFY,
      identifyPremium: e.RATE_LIMIT_IDENTIFY_PREMIUM,
      default: e.RATE_LIMIT_DEFAULT,
      cspReport: e.RATE_LIMIT_CSP_REPORT,
    },
    seedOnStart: e.SEED_ON_START,
    accountSecurity: {
      throttle: {
        networkFree: e.LOGIN_THROTTLE_NETWORK_FREE,
        networkMaxDelaySeconds: e.LOGIN_THROTTLE_NETWORK_MAX_DELAY_SECONDS,
        accountFree: e.LOGIN_THROTTLE_ACCOUNT_FREE,
        accountMaxDelaySeconds: e.LOGIN_THROTTLE_ACCOUNT_MAX_DELAY_SECONDS,
        baseDelaySeconds: e.LOGIN_THROTTLE_BASE_DELAY_SECONDS,
        forgetSeconds: e.LOGIN_THROTTLE_FORGET_SECONDS,
      },
      loginCodeTtlSeconds: e.LOGIN_CODE_TTL_SECONDS,
      accountMail: e.RATE_LIMIT_AUTH_EMAILS,
      emailVerifyTtlSeconds: e.EMAIL_VERIFY_TTL_HOURS * 3600,
      passwordResetTtlSeconds: e.PASSWORD_RESET_TTL_MINUTES * 60,
      unverifiedIdentificationAllowance: e.UNVERIFIED_IDENTIFICATION_ALLOWANCE,
      appLinkBaseUrl: (e.APP_LINK_BASE_URL ?? e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(
        /\/$/,
        "",
      ),
    },
    ...backgroundConfig(e),
    ...identificationConfig(e),
    ...breakerConfig(e),
    ...cspConfig(e),
    ...observabilityConfig(e),
    ...readsConfig(e),
    ...mediaOpsConfig(e),
    ...accountDataConfig(e),
    ...graphqlConfig(e),
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

/**
 * The defaults of DATABASE_URL and REDIS_URL point at this machine: in production a missing secret must stop
 * the process instead of connecting to 127.0.0.1.
 */
function productionEndpointIssues(source: Record<string, string | undefined>) {
  if (source.NODE_ENV !== "production") return [];
  const issues: { path: string[]; message: string }[] = [];
  if (!source.DATABASE_URL) issues.push({ path: ["DATABASE_URL"], message: "required in production" });
  if (!source.REDIS_URL && !source.REDIS_SENTINELS)
    issues.push({ path: ["REDIS_URL"], message: "required in production (or REDIS_SENTINELS)" });
  // A worker of the fast lane sends e-mail; without SMTP it would write files on a Machine's throwaway disk.
  const lanes = source.WORKER_QUEUES?.split(",").map((l) => l.trim());
  if (lanes?.includes("fast") && !source.SMTP_URL)
    issues.push({ path: ["SMTP_URL"], message: "required in production by a worker of the fast lane" });
  return issues;
}

export type ReleaseConfig = Readonly<{ databaseUrl: string }>;

/** The release command (migrations, then the species catalogue) needs the primary database and nothing else. */
export function parseReleaseConfig(source: Record<string, string | undefined>): ReleaseConfig {
  const production = source.NODE_ENV === "production";
  // Outside production the same local default as the full configuration.
  const url =
    source.DATABASE_URL || (production ? undefined : "postgres://postgres@127.0.0.1:5432/plant_community");
  if (!url) throw new Error("Invalid configuration:\n  DATABASE_URL: required in production");
  return Object.freeze({ databaseUrl: url });
}

export function loadReleaseConfig(): ReleaseConfig {
  return parseReleaseConfig(process.env);
}
