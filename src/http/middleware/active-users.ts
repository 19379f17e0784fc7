import { createMiddleware } from "hono/factory";
import type { Redis } from "ioredis";
import { recordActiveUser } from "../../infra/active-users.ts";
import type { Metrics } from "../../infra/metrics.ts";
import type { AppEnv } from "../context.ts";

/**
 * Counts the caller towards `active_users` once the request is done (so `c.var.auth` is known), signed in with
 * a token or an API key. Not awaited: a slow or absent Redis must not delay or fail the response.
 */
export function activeUsers(redis: Redis, prefix: string, metrics: Metrics) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const userId = c.get("auth")?.userId;
    if (!userId) return;
    recordActiveUser(redis, prefix, userId).catch(() => metrics.sourceErrors.inc({ source: "active_users" }));
  });
}
