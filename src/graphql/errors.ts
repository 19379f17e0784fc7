import { GraphQLError } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { ERROR_CODES, type ErrorCode } from "../http/errors.ts";

/**
 * One error vocabulary for both transports: an error carrying one of our stable codes (ApiError today, the
 * service layer's AppError once it lands: both have `code`) becomes `errors[].extensions.code`; REST answers
 * the same code as problem+json. Anything else is an internal error whose message is never shown.
 */
export function codeOf(err: unknown): ErrorCode | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code in ERROR_CODES ? (code as ErrorCode) : undefined;
}

export function appGraphQLError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return createGraphQLError(message, { extensions: { code, ...extensions } });
}

/** Yoga's maskError: our coded errors pass with their code and detail; 5xx and unknown errors are masked. */
export function maskError(error: unknown, fallback: string): Error {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof GraphQLError && original.extensions?.code) return error as Error;
  const code = codeOf(original);
  if (code) {
    const status = ERROR_CODES[code].status;
    const detail = (original as { detail?: string }).detail ?? (original as Error).message;
    const fieldErrors = (original as { errors?: unknown }).errors;
    // AppError says when to retry in `retryAfterSeconds`; ApiError in its Retry-After header.
    const retryAfter =
      (original as { retryAfterSeconds?: number }).retryAfterSeconds ??
      (original as { headers?: Record<string, string> }).headers?.["Retry-After"];
    const gqlError = error instanceof GraphQLError ? error : undefined;
    return createGraphQLError(status >= 500 ? ERROR_CODES[code].title : detail, {
      nodes: gqlError?.nodes,
      path: gqlError?.path,
      extensions: {
        code,
        ...(Array.isArray(fieldErrors) ? { errors: fieldErrors } : {}),
        ...(retryAfter !== undefined ? { retryAfter: Number(retryAfter) } : {}),
      },
    });
  }
  if (error instanceof GraphQLError && !error.originalError) {
    // Syntax and validation errors of the document itself.
    return createGraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...error.extensions, code: "validation_failed" },
    });
  }
  const gqlError = error instanceof GraphQLError ? error : undefined;
  return createGraphQLError(fallback, {
    nodes: gqlError?.nodes,
    path: gqlError?.path,
    extensions: { code: "internal_error" },
  });
}
