import { z } from "zod";
import { type AccountDataConfig, AccountDataEnvShape, accountDataConfig } from "./account-data.ts";
import { type AuthConfig, AuthEnvShape, authConfig, checkAuthEnv } from "./auth.ts";
import { type BreakerConfig, BreakerEnvShape, breakerConfig } from "./breakers.ts";
import { type CspConfig, CspEnvShape, cspConfig } from "./csp.ts";
import { type DatabaseConfig, DatabaseEnvShape, databaseConfig } from "./database.ts";
import { bool } from "./env-types.ts";
import { checkGraphqlEnv, type GraphqlConfig, GraphqlEnvShape, graphqlConfig } from "./graphql.ts";
import { type HttpConfig, HttpEnvShape, httpConfig } from "./http.ts";
import {
  checkIdentificationEnv,
  type IdentificationConfig,
  IdentificationEnvShape,
  identificationConfig,
} from "./identification.ts";
import {
  checkMediaFlowsEnv,
  type MediaFlowsConfig,
  MediaFlowsEnvShape,
  mediaFlowsConfig,
} from "./media-flows.ts";
import { checkMediaOpsEnv, type MediaOpsConfig, MediaOpsEnvShape, mediaOpsConfig } from "./media-ops.ts";
import { type ObservabilityConfig, ObservabilityEnvShape, observabilityConfig } from "./observability.ts";
import { type BackgroundConfig, BackgroundEnvShape, backgroundConfig } from "./queues.ts";
import { type RateLimitsConfig, RateLimitsEnvShape, rateLimitsConfig } from "./rate-limits.ts";
import { type ReadsConfig, ReadsEnvShape, readsConfig } from "./reads.ts";
import { type RedisConfig, RedisEnvShape, redisConfig } from "./redis.ts";
import { parseReleaseConfig, type ReleaseConfig } from "./release.ts";

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

    SEED_ON_START: z.boolean().or(bool).default(true),
    ...DatabaseEnvShape,
    ...RedisEnvShape,
    ...HttpEnvShape,
    ...AuthEnvShape,
    ...RateLimitsEnvShape,
    ...BackgroundEnvShape,
    ...IdentificationEnvShape,
    ...BreakerEnvShape,
    ...CspEnvShape,
    ...ObservabilityEnvShape,
    ...ReadsEnvShape,
    ...MediaOpsEnvShape,
    ...AccountDataEnvShape,
    ...MediaFlowsEnvShape,
    ...GraphqlEnvShape,
  })
  .superRefine((env, ctx) => {
    checkIdentificationEnv(env, ctx);
    checkMediaOpsEnv(env, ctx);
    checkMediaFlowsEnv(env, ctx);
    checkAuthEnv(env, ctx);
    checkGraphqlEnv(env, ctx);
    if (env.NODE_ENV === "production" && !env.PUBLIC_BASE_URL) {
      ctx.addIssue({ code: "custom", path: ["PUBLIC_BASE_URL"], message: "required in production" });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export type Config = Readonly<{
  env: Env["NODE_ENV"];
  port: number;
  host: string;
  metrics: Readonly<{ port: number; host: string; token: string | undefined }>;
  publicBaseUrl: string | undefined;
  logLevel: Env["LOG_LEVEL"];
  seedOnStart: boolean;
}> &
  DatabaseConfig &
  RedisConfig &
  HttpConfig &
  AuthConfig &
  RateLimitsConfig &
  BackgroundConfig &
  IdentificationConfig &
  BreakerConfig &
  CspConfig &
  ObservabilityConfig &
  ReadsConfig &
  MediaOpsConfig &
  AccountDataConfig &
  MediaFlowsConfig &
  GraphqlConfig;

export function parseConfig(source: Record<string, string | undefined>): Config {
  // Parsed once per process: zod's compiled fast path for this ~200-field object cost more to build (~8 ms
  // of the API's start, measured pinned to one core) than the one parse it would speed up.
  const parsed = EnvSchema.safeParse(source, { jitless: true });
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
    seedOnStart: e.SEED_ON_START,
    ...databaseConfig(e),
    ...redisConfig(e),
    ...httpConfig(e),
    ...authConfig(e),
    ...rateLimitsConfig(e),
    ...backgroundConfig(e),
    ...identificationConfig(e),
    ...breakerConfig(e),
    ...cspConfig(e),
    ...observabilityConfig(e),
    ...readsConfig(e),
    ...mediaOpsConfig(e),
    ...accountDataConfig(e),
    ...mediaFlowsConfig(e),
    ...graphqlConfig(e),
  });
}

/** With loadReleaseConfig, the only reader of process.env in src/. */
export function loadConfig(): Config {
  return parseConfig(process.env);
}

/** The release command's configuration (migrations, then the species catalogue). */
export function loadReleaseConfig(): ReleaseConfig {
  return parseReleaseConfig(process.env);
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

export type { RateLimitName, RatePolicy } from "./rate-limits.ts";
export { parseReleaseConfig, type ReleaseConfig } from "./release.ts";
