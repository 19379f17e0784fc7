import type { RateDecision } from "../infra/rate-limiter.ts";
import { type ErrorCode, errorTitle } from "./error-codes.ts";

export type { ErrorCode } from "./error-codes.ts";

export type FieldError = { path: string; message: string };

/**
 * What a credential check tells the client about how to authenticate (RFC 6750 terms). REST renders it as
 * `WWW-Authenticate`; other transports may ignore it.
 */
export type AuthChallenge = {
  /** The protection space; "plant-community" unless said otherwise. */
  realm?: string;
  error?: "invalid_token" | "insufficient_scope";
  description?: string;
  /** Scopes the caller lacks, space-separated. */
  scope?: string;
};

export type AppErrorOptions = {
  errors?: FieldError[];
  /** When the client may retry (REST: `Retry-After`). */
  retryAfterSeconds?: number;
  /** The rate-limit policies that decided a 429, so the client sees its quota (REST: `RateLimit*`). */
  rateLimits?: RateDecision[];
  authChallenge?: AuthChallenge;
  /** For method_not_allowed: the methods the resource does accept (REST: `Allow`). */
  allowedMethods?: string[];
  cause?: unknown;
};

/**
 * The one error type services, repositories and infrastructure throw. It carries a stable code from
 * src/core/error-codes.ts and no transport detail: REST maps it to problem+json (src/http/errors.ts), GraphQL to
 * `errors[].extensions.code`.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly rateLimits: RateDecision[] | undefined;
  readonly authChallenge: AuthChallenge | undefined;
  readonly allowedMethods: string[] | undefined;

  constructor(code: ErrorCode, detail?: string, options?: AppErrorOptions) {
    super(detail ?? errorTitle(code), { cause: options?.cause });
    this.name = "AppError";
    this.code = code;
    this.detail = detail;
    this.errors = options?.errors;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.rateLimits = options?.rateLimits;
    this.authChallenge = options?.authChallenge;
    this.allowedMethods = options?.allowedMethods;
  }
}

/** The AppError itself, or one wrapped as the `cause` of another error (as libraries re-throw); else undefined. */
export function asAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const cause = (err as { cause?: unknown } | null | undefined)?.cause;
  return cause instanceof AppError ? cause : undefined;
}
