import { createMiddleware } from "hono/factory";
import { AppError } from "../../core/app-error.ts";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import { findEmailVerification } from "./email-tokens.repo.ts";

/**
 * Route policy for spending provider money: an account whose address is not confirmed may make
 * `UNVERIFIED_IDENTIFICATION_ALLOWANCE` identifications (`perRequest: 1`), or none for requests that can make
 * many at once (batches: `perRequest: Infinity`). Put after `protect(...)` in the route's middleware.
 */
export function verifiedEmail(opts: { perRequest: number }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { userId } = authOf(c);
    const deps = c.var.deps;
    const account = await findEmailVerification(deps.db.primary, userId);
    if (account && !account.verified) {
      const allowance = deps.config.accountSecurity.unverifiedIdentificationAllowance;
      if (account.identificationsEver + opts.perRequest > allowance) {
        throw new AppError(
          "email_unverified",
          `Confirm your e-mail address to identify more plants (unconfirmed accounts get ${allowance}). ` +
            "Ask for a new link with POST /v1/auth/verify-email/resend.",
        );
      }
    }
    await next();
  });
}
