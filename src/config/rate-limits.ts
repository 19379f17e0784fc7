import type { z } from "zod";
import { rate } from "./env-types.ts";

/** Rate-limit policies per route family, written `<limit>/<window>`. */
export const RateLimitsEnvShape = {
  RATE_LIMIT_LOGIN_IP: rate.prefault("5/15m"),
  RATE_LIMIT_REGISTER: rate.prefault("3/1h"),
  RATE_LIMIT_REFRESH: rate.prefault("30/1h"),
  RATE_LIMIT_IDENTIFY: rate.prefault("100/1h"),
  RATE_LIMIT_IDENTIFY_PREMIUM: rate.prefault("1000/1h"),
  RATE_LIMIT_DEFAULT: rate.prefault("600/1m"),
  RATE_LIMIT_CSP_REPORT: rate.prefault("120/1m"),
};

type RateLimitsEnv = z.infer<z.ZodObject<typeof RateLimitsEnvShape>>;

export type RatePolicy = Readonly<{ limit: number; windowSeconds: number }>;
export type RateLimitName =
  | "loginIp"
  | "register"
  | "refresh"
  | "identify"
  | "identifyPremium"
  | "default"
  | "cspReport";

export type RateLimitsConfig = Readonly<{
  rateLimits: Readonly<Record<RateLimitName, RatePolicy>>;
}>;

export function rateLimitsConfig(e: RateLimitsEnv): RateLimitsConfig {
  return {
    rateLimits: {
      loginIp: e.RATE_LIMIT_LOGIN_IP,
      register: e.RATE_LIMIT_REGISTER,
      refresh: e.RATE_LIMIT_REFRESH,
      identify: e.RATE_LIMIT_IDENTIFY,
      identifyPremium: e.RATE_LIMIT_IDENTIFY_PREMIUM,
      default: e.RATE_LIMIT_DEFAULT,
      cspReport: e.RATE_LIMIT_CSP_REPORT,
    },
  };
}
