import { GraphQLError } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { AppError, asAppError } from "../core/app-error.ts";
import { type ErrorCode, errorTitle } from "../core/error-codes.ts";
import { isConnectionError } from "../db/errors.ts";
import type { Deps } from "../deps.ts";
import { httpStatus } from "../http/errors.ts";
import type { GraphQLContext } from "./context.ts";

const DATABASE_DOWN = new AppError("service_unavailable", undefined, { retryAfterSeconds: 5 });

/**
 * Errors nobody expected (not an AppError, not the document's own), logged and sent to error tracking as REST's
 * error handler does; the client sees `internal_error` (maskError).
 */
export function reportUnexpected(
  deps: Pick<Deps, "logger" | "telemetry">,
  errors: readonly unknown[],
  ctx: Partial<GraphQLContext> | undefined,
): void {
  for (const error of errors) {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (!original || original instanceof GraphQLError || asAppError(original)) continue;
    const err = original as Error;
    if (isConnectionError(err)) {
      deps.logger.error({ requestId: ctx?.requestId, err: err.message }, "database unreachable");
      continue;
    }
    deps.logger.error(
      { requestId: ctx?.requestId, err: { message: err.message, stack: err.stack } },
      "unhandled error in a GraphQL resolver",
    );
    deps.telemetry.errors.capture(err, {
      requestId: ctx?.requestId,
      method: "POST",
      route: "/v1/graphql",
      userId: ctx?.auth?.userId,
      traceId: ctx?.traceparent?.slice(3, 35),
      spanId: ctx?.traceparent?.slice(36, 52),
    });
  }
}

/**
 * One error vocabulary for both transports: the services' AppError (a stable code, no HTTP status) becomes
 * `errors[].extensions.code` here as REST makes it problem+json; `retryAfter` is REST's Retry-After. Anything
 * else is an internal error whose message is never shown.
 */
export function appGraphQLError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return createGraphQLError(message, { extensions: { code, ...extensions } });
}

/** Yoga's maskError: our coded errors pass with their code and detail; 5xx and unknown errors are masked. */
export function maskError(error: unknown, fallback: string): Error {
  const gqlError = error instanceof GraphQLError ? error : undefined;
  const original = gqlError?.originalError ?? error;
  if (original instanceof GraphQLError && original.extensions?.code) return error as Error;
  // The primary database unreachable is an outage the client can retry, as REST answers it.
  const app = asAppError(original) ?? (isConnectionError(original) ? DATABASE_DOWN : undefined);
  if (app) {
    // As REST: the details of a 5xx are ours (its title), never an underlying message.
    const message = httpStatus(app.code) >= 500 ? errorTitle(app.code) : (app.detail ?? errorTitle(app.code));
    return createGraphQLError(message, {
      nodes: gqlError?.nodes,
      path: gqlError?.path,
      extensions: {
        code: app.code,
        ...(app.errors ? { errors: app.errors } : {}),
        ...(app.retryAfterSeconds !== undefined ? { retryAfter: app.retryAfterSeconds } : {}),
      },
    });
  }
  if (gqlError && !gqlError.originalError) {
    // Syntax and validation errors of the document itself.
    return createGraphQLError(gqlError.message, {
      nodes: gqlError.nodes,
      source: gqlError.source,
      positions: gqlError.positions,
      path: gqlError.path,
      extensions: { ...gqlError.extensions, code: "validation_failed" },
    });
  }
  return createGraphQLError(fallback, {
    nodes: gqlError?.nodes,
    path: gqlError?.path,
    extensions: { code: "internal_error" },
  });
}
