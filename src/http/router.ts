import { OpenAPIHono } from "@hono/zod-openapi";
import { TrieRouter } from "hono/router/trie-router";
import type { ZodError } from "zod";
import { AppError, type FieldError } from "../core/app-error.ts";
import type { AppEnv } from "./context.ts";

export function zodIssuesToFieldErrors(error: ZodError, target?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [target, ...issue.path.map(String)].filter(Boolean).join("."),
    message: issue.message,
  }));
}

type RouterOptions = NonNullable<ConstructorParameters<typeof OpenAPIHono<AppEnv>>[0]>;

/** Every router answers validation failures with the same problem shape. */
const answerValidationFailures: RouterOptions = {
  defaultHook: (result) => {
    if (!result.success) {
      throw new AppError("validation_failed", "One or more fields are invalid.", {
        errors: zodIssuesToFieldErrors(result.error, result.target),
      });
    }
  },
};

/** Every module's router is made here (see answerValidationFailures). */
export function createRouter() {
  return new OpenAPIHono<AppEnv>(answerValidationFailures);
}

/**
 * The application's own router (src/app.ts), the one that matches requests, on Hono's TrieRouter by name: the
 * default SmartRouter builds a RegExpRouter from every route at the first request, which gives up on our route
 * table (UnsupportedPathError), and then builds the TrieRouter it answers with from then on (`app.router.name`
 * read "SmartRouter + TrieRouter"). Naming it skips the wasted build in the first request (issue #17, cold
 * start: ~10 ms of CPU); requests are matched by the same router as before. The modules' routers keep the
 * default: they never match (their routes are copied into this one), and SmartRouter only lists routes until
 * then, where a TrieRouter would build its tree for nothing.
 */
export function createAppRouter() {
  return new OpenAPIHono<AppEnv>({ ...answerValidationFailures, router: new TrieRouter() });
}
