/**
 * Every error the API can answer with, code -> title. The code is part of the public contract (REST problem
 * documents, GraphQL `errors[].extensions.code`): never rename one. Transports map codes to their own statuses
 * (REST: src/http/errors.ts).
 */
export const ERROR_TITLES = {
  validation_failed: "The request is not valid",
  invalid_cursor: "The cursor is not valid",
  malformed_body: "The request body could not be parsed",
  invalid_image: "The image could not be decoded",
  image_too_small: "The image is too small",
  image_too_many_pixels: "The image has too many pixels",
  unauthenticated: "Authentication is required",
  // Two codes so a client knows what to do: refresh the session, or sign in again (issue #12).
  token_expired: "The access token has expired; refresh the session",
  invalid_token: "The credentials are not valid; sign in again",
  invalid_credentials: "The email or password is not correct",
  invalid_refresh_token: "The refresh token is not valid",
  insufficient_scope: "The credentials lack a required scope",
  not_found: "The resource was not found",
  route_not_found: "No such route",
  method_not_allowed: "The method is not allowed on this resource",
  conflict: "The request conflicts with the current state",
  email_unavailable: "This email address cannot be used",
  idempotency_key_in_use: "A request with this Idempotency-Key is still in progress",
  endpoint_retired: "This endpoint was retired; use its successor",
  payload_too_large: "The request body is too large",
  unsupported_media_type: "The content type is not supported",
  idempotency_key_reused: "The Idempotency-Key was used for a different request",
  rate_limited: "Too many requests",
  account_locked: "The account is temporarily locked",
  internal_error: "An unexpected error occurred",
  service_unavailable: "The service is temporarily unavailable",
  providers_unavailable: "The identification providers are unavailable",
  invalid_email_token: "The link is not valid or has expired",
  email_unverified: "The e-mail address is not verified yet",
  login_throttled: "Sign-ins to this account are slowed down",
  // Per-user daily provider budget (issue #13): retryAfterSeconds points at the next UTC day.
  provider_budget_exhausted: "Your daily identification budget is spent",
  // Models and experiments (issue 15).
  experiment_running: "Another experiment is running",
  experiment_stopped: "The experiment is stopped",
  invalid_experiment: "The experiment's variants are not valid",
  unknown_species: "The species is not in the catalogue",
  // Signed download links (account exports, issue #13).
  invalid_link_signature: "The link's signature is not valid",
  link_expired: "The link has expired",
  // Direct uploads (issue #13): the checks of the photos themselves answer with the image codes above.
  upload_unavailable: "The upload does not exist, has expired or was already used",
  upload_incomplete: "The upload has not been received",
  upload_checksum_mismatch: "The upload does not match its declared SHA-256",
  upload_limit_reached: "Too many unclaimed uploads",
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_TITLES;

export function errorTitle(code: ErrorCode): string {
  return ERROR_TITLES[code];
}
