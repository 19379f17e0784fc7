import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppError, AuthChallenge, FieldError } from "../core/app-error.ts";
import { ERROR_TITLES, type ErrorCode } from "../core/error-codes.ts";
import { rateLimitHeaders } from "./rate-limit-headers.ts";

export type { FieldError } from "../core/app-error.ts";
export type { ErrorCode } from "../core/error-codes.ts";

/** REST's view of the error vocabulary: the HTTP status of each code (titles live in src/core/error-codes.ts). */
const HTTP_STATUS = {
  validation_failed: 400,
  invalid_cursor: 400,
  malformed_body: 400,
  invalid_image: 400,
  image_too_small: 400,
  image_too_many_pixels: 400,
  unauthenticated: 401,
  token_expired: 401,
  invalid_token: 401,
  invalid_credentials: 401,
  invalid_refresh_token: 401,
  insufficient_scope: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  email_unavailable: 409,
  idempotency_key_in_use: 409,
  endpoint_retired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  account_locked: 429,
  internal_error: 500,
  service_unavailable: 503,
  providers_unavailable: 503,
  invalid_email_token: 400,
  email_unverified: 403,
  login_throttled: 429,
  provider_budget_exhausted: 429,
  experiment_running: 409,
  experiment_stopped: 409,
  invalid_experiment: 422,
  unknown_species: 422,
  invalid_link_signature: 403,
  link_expired: 410,
  upload_unavailable: 422,
  upload_incomplete: 409,
  upload_checksum_mismatch: 422,
  upload_limit_reached: 429,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>;

/** Code -> HTTP status and title, in the vocabulary's order (the OpenAPI `code` enum is built from it). */
export const ERROR_CODES = Object.fromEntries(
  (Object.keys(ERROR_TITLES) as ErrorCode[]).map((code) => [
    code,
    { status: HTTP_STATUS[code], title: ERROR_TITLES[code] },
  ]),
) as { [C in ErrorCode]: { status: (typeof HTTP_STATUS)[C]; title: (typeof ERROR_TITLES)[C] } };

export function httpStatus(code: ErrorCode): ContentfulStatusCode {
  return HTTP_STATUS[code];
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
export const PROBLEM_TYPE_BASE = "https://plant.community/problems/";

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  requestId: string;
  /** The W3C trace id of the request: the same as in our logs and exported traces. */
  traceId?: string;
  errors?: FieldError[];
};

export function toProblem(err: AppError, instance: string, requestId: string, traceId?: string): Problem {
  const status = httpStatus(err.code);
  const title = ERROR_TITLES[err.code];
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${err.code.replaceAll("_", "-")}`,
    title,
    status,
    // 5xx details are ours, never the underlying exception's message.
    detail: status >= 500 ? title : (err.detail ?? title),
    instance,
    code: err.code,
    requestId,
  };
  if (traceId) problem.traceId = traceId;
  if (err.errors) problem.errors = err.errors;
  return problem;
}

/** RFC 6750 challenge: `Bearer realm="plant-community"` plus the error parameters the check gave. */
function wwwAuthenticate(challenge: AuthChallenge): string {
  let value = `Bearer realm="${challenge.realm ?? "plant-community"}"`;
  if (challenge.error) value += `, error="${challenge.error}"`;
  if (challenge.description !== undefined)
    value += `, error_description="${challenge.description.replaceAll('"', "'")}"`;
  if (challenge.scope !== undefined) value += `, scope="${challenge.scope}"`;
  return value;
}

/** The HTTP headers an AppError's transport-free fields stand for. */
export function errorHeaders(err: AppError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err.rateLimits) Object.assign(headers, rateLimitHeaders(err.rateLimits));
  if (err.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.retryAfterSeconds);
  if (err.authChallenge) headers["WWW-Authenticate"] = wwwAuthenticate(err.authChallenge);
  if (err.allowedMethods) headers.Allow = err.allowedMethods.join(", ");
  return headers;
}

export function problemResponse(
  err: AppError,
  instance: string,
  requestId: string,
  traceId?: string,
): Response {
  const headers = new Headers(errorHeaders(err));
  headers.set("content-type", PROBLEM_CONTENT_TYPE);
  headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(toProblem(err, instance, requestId, traceId)), {
    status: httpStatus(err.code),
    headers,
  });
}
