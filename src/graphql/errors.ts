import { GraphQLError } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { asAppError } from "../core/app-error.ts";
import { type ErrorCode, errorTitle } from "../core/error-codes.ts";
import { httpStatus } from "../http/errors.ts";

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
  const app = asAppError(original);
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
