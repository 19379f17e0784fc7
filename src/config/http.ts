import { z } from "zod";
import { ms } from "./env-types.ts";

/** The HTTP server's limits, shutdown, proxies and the legacy adapters' dates. */
export const HttpEnvShape = {
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
};

type HttpEnv = z.infer<z.ZodObject<typeof HttpEnvShape>>;

export type HttpConfig = Readonly<{
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
}>;

export function httpConfig(e: HttpEnv): HttpConfig {
  return {
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
  };
}
