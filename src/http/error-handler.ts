import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, asAppError } from "../core/app-error.ts";
import { isConnectionError } from "../db/errors.ts";
import type { ErrorTracker } from "../infra/error-tracking.ts";
import type { Logger } from "../infra/logger.ts";
import type { AppEnv } from "./context.ts";
import { problemResponse } from "./errors.ts";
import { matchedRoute } from "./middleware/logging.ts";

/** Every error answer goes out here, as a problem document carrying the request id and trace id. */
export function problem(c: Context<AppEnv>, err: AppError): Response {
  const requestId = c.get("requestId") ?? "unknown";
  const res = problemResponse(err, c.req.path, requestId, c.get("traceId"));
  res.headers.set("X-Request-Id", requestId);
  return res;
}

export function errorHandler(logger: Logger, errors?: ErrorTracker) {
  return (err: Error, c: Context<AppEnv>) => problem(c, toAppError(err, c, logger, errors));
}

function toAppError(err: unknown, c: Context<AppEnv>, logger: Logger, errors?: ErrorTracker): AppError {
  const known = asAppError(err);
  if (known) return known;
  if (err instanceof HTTPException) {
    if (err.status === 400)
      return new AppError("malformed_body", err.message || "The body could not be parsed.");
    if (err.status === 413) return new AppError("payload_too_large");
    if (err.status === 415) return new AppError("unsupported_media_type");
  }
  const line = {
    requestId: c.get("requestId"),
    err:
      err instanceof Error
        ? { message: err.message, stack: err.stack, code: (err as { code?: unknown }).code }
        : String(err),
  };
  // The primary database unreachable is an outage the client can retry, not a bug in the request.
  if (isConnectionError(err)) {
    logger.error(line, "database unreachable");
    return new AppError("service_unavailable", undefined, { retryAfterSeconds: 5, cause: err });
  }
  logger.error(line, "unhandled error");
  // Only errors nobody expected reach error tracking; problems answered on purpose above do not.
  errors?.capture(err, {
    requestId: c.get("requestId"),
    method: c.req.method,
    route: matchedRoute(c),
    userId: c.get("auth")?.userId,
    traceId: c.get("traceId"),
    spanId: c.get("traceparent")?.slice(36, 52),
  });
  return new AppError("internal_error", undefined, { cause: err });
}
