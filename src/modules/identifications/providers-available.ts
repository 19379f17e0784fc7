import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../http/context.ts";
import { prefersRespondAsync } from "./identifications.request.ts";

/**
 * Route policy for the routes that identify now: with both providers' breakers open, a 503 with Retry-After at
 * once, before anything else costs a round trip (the address and budget checks, reading the body). A request
 * that prefers `respond-async` goes on and is queued. Put right after `protect(...)`: the caller is known, and
 * the 503 takes precedence over the account's own refusals (403 `email_unverified`, 429 budget), which the
 * client meets once the providers are back.
 */
export function providersAvailable() {
  return createMiddleware<AppEnv>(async (c, next) => {
    c.var.services.identifications.refuseWhenProvidersOpen({
      queued: prefersRespondAsync(c.req.header("prefer")),
    });
    await next();
  });
}
