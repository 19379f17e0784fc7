import { z } from "zod";
import { csv, rate } from "./env-types.ts";
import type { RatePolicy } from "./rate-limits.ts";

/** Tokens, password hashing, sign-in throttling and account e-mails. */
export const AuthEnvShape = {
  JWT_SECRET: z.string().min(32, "at least 32 characters").optional(),
  // Rotation: the old JWT_SECRET goes here (comma-separated) until its access tokens have expired.
  JWT_PREVIOUS_SECRETS: csv.pipe(z.array(z.string().min(32, "at least 32 characters"))).optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).default(30),
  ARGON2_MEMORY_KIB: z.coerce.number().int().min(1024).default(19_456),
  ARGON2_TIME_COST: z.coerce.number().int().min(1).default(2),
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
};

type AuthEnv = z.infer<z.ZodObject<typeof AuthEnvShape>> & {
  PUBLIC_BASE_URL?: string | undefined;
  PORT: number;
};

export type AuthConfig = Readonly<{
  auth: Readonly<{
    jwtSecret: string;
    /** Retired signing secrets: their tokens still verify (by `kid`), new tokens never use them. */
    jwtPreviousSecrets: readonly string[];
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    argon2: Readonly<{ memoryCost: number; timeCost: number }>;
  }>;
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
}>;

export function authConfig(e: AuthEnv): AuthConfig {
  return {
    auth: {
      // Outside production a per-process secret is fine: tokens simply stop working after a restart.
      jwtSecret:
        e.JWT_SECRET ?? Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
      jwtPreviousSecrets: e.JWT_PREVIOUS_SECRETS ?? [],
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_DAYS * 86_400,
      argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST },
    },
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
  };
}

/** Production refuses to start without its own signing secret. */
export function checkAuthEnv(
  env: { NODE_ENV: string; JWT_SECRET?: string | undefined },
  ctx: { addIssue(issue: { code: "custom"; path: string[]; message: string }): void },
): void {
  if (env.NODE_ENV === "production" && !env.JWT_SECRET) {
    ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "required in production" });
  }
}
