import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every error the API can answer with. The code is part of the public contract: never rename one. */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: "The request is not valid" },
  invalid_cursor: { status: 400, title: "The cursor is not valid" },
  malformed_body: { status: 400, title: "The request body could not be parsed" },
  invalid_image: { status: 400, title: "The image could not be decoded" },
  image_too_small: { status: 400, title: "The image is too small" },
  image_too_many_pixels: { status: 400, title: "The image has too many pixels" },
  unauthenticated: { status: 401, title: "Authentication is required" },
  // Two codes so a client knows what to do: refresh the session, or sign in again (issue #12).
  token_expired: { status: 401, title: "The access token has expired; refresh the session" },
  invalid_token: { status: 401, title: "The credentials are not valid; sign in again" },
  invalid_credentials: { status: 401, title: "The email or password is not correct" },
  invalid_refresh_token: { status: 401, title: "The refresh token is not valid" },
  insufficient_scope: { status: 403, title: "The credentials lack a required scope" },
  not_found: { status: 404, title: "The resource was not found" },
  route_not_found: { status: 404, title: "No such route" },
  method_not_allowed: { status: 405, title: "The method is not allowed on this resource" },
  conflict: { status: 409, title: "The request conflicts with the current state" },
  email_unavailable: { status: 409, title: "This email address cannot be used" },
  idempotency_key_in_use: { status: 409, title: "A request with this Idempotency-Key is still in progress" },
  endpoint_retired: { status: 410, title: "This endpoint was retired; use its successor" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "The content type is not supported" },
  idempotency_key_reused: { status: 422, title: "The Idempotency-Key was used for a different request" },
  rate_limited: { status: 429, title: "Too many requests" },
  account_locked: { status: 429, title: "The account is temporarily locked" },
  internal_error: { status: 500, title: "An unexpected error occurred" },
  service_unavailable: { status: 503, title: "The service is temporarily unavailable" },
  providers_unavailable: { status: 503, title: "The identification providers are unavailable" },
  invalid_email_token: { status: 400, title: "The link is not valid or has expired" },
  email_unverified: { status: 403, title: "The e-mail address is not verified yet" },
  login_throttled: { status: 429, title: "Sign-ins to this account are slowed down" },
  // Per-user daily provider budget (issue #13): Retry-After points at the next UTC day.
  provider_budget_exhausted: { status: 429, title: "Your daily identification budget is spent" },
  // Models and experiments (issue 15).
  experiment_running: { status: 409, title: "Another experiment is running" },
  experiment_stopped: { status: 409, title: "The experiment is stopped" },
  invalid_experiment: { status: 422, title: "The experiment's variants are not valid" },
  unknown_species: { status: 422, title: "The species is not in the catalogue" },
  // Signed download links (account exports, issue #13).
  invalid_link_signature: { status: 403, title: "The link's signature is not valid" },
  link_expired: { status: 410, title: "The link has expired" },
  // Direct uploads (issue #13): the checks of the photos themselves answer with the multipart codes above.
  upload_unavailable: {
    status: 422,
    title: "The upload does not exist, has expired or was already used",
  },
  upload_incomplete: { status: 409, title: "The upload has not been received" },
  upload_checksum_mismatch: { status: 422, title: "The upload does not match its declared SHA-256" },
  upload_limit_reached: { status: 429, title: "Too many unclaimed uploads" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export type FieldError = { path: string; message: string };

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    extra?: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown },
  ) {
    super(detail ?? ERROR_CODES[code].title, { cause: extra?.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = detail;
    this.errors = extra?.errors;
    this.headers = extra?.headers;
  }
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

export function toProblem(err: ApiError, instance: string, requestId: string, traceId?: string): Problem {
  const { title, status } = ERROR_CODES[err.code];
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

export function problemResponse(
  err: ApiError,
  instance: string,
  requestId: string,
  traceId?: string,
): Response {
  const headers = new Headers(err.headers);
  headers.set("content-type", PROBLEM_CONTENT_TYPE);
  headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(toProblem(err, instance, requestId, traceId)), {
    status: err.status,
    headers,
  });
}
