import { z } from "zod";
import { bool, csv, ms } from "./env-types.ts";

/** Redis: one server or Sentinels, credentials, and the request path's breaker in front of it. */
export const RedisEnvShape = {
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
};

type RedisEnv = z.infer<z.ZodObject<typeof RedisEnvShape>>;

export type RedisConfig = Readonly<{
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
}>;

export function redisConfig(e: RedisEnv): RedisConfig {
  return {
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
  };
}
