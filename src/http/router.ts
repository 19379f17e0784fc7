import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { AppError, type FieldError } from "../core/app-error.ts";
import type { AppEnv } from "./context.ts";

export function zodIssuesToFieldErrors(error: ZodError, target?: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [target, ...issue.path.map(String)].filter(Boolean).join("."),
    message: issue.message,
  }));
}

/** Every router is made here so that all of them answer validation failures with the same problem shape. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError("validation_failed", "One or more fields are invalid.", {
          errors: zodIssuesToFieldErrors(result.error, result.target),
        });
      }
    },
  });
}
