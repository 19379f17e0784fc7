import { createMiddleware } from "hono/factory";
import type { Redis } from "ioredis";
import { recordActiveUser } from "../../infra/active-users.ts";
import type { Metrics } from "../../infra/metrics.ts";
import type { AppEnv } from "../context.ts";

/**
 * How often one instance writes the same user (issue #17): the count covers 15 minutes, so a latest-request
 * time up to 10 s old changes nothing a dashboard shows (a user may leave the window up to 10 s early, 1 % of
 * it), and a signed-in app's requests stop costing a Redis round trip (ZADD + PEXPIRE) each.
 */
export const ACTIVE_USER_RECORD_EVERY_MS = 10_000;
/** Users remembered per instance; past it the memory is dropped (and the next request of each writes again). */
const REMEMBERED_MAX = 10_000;

/**
 * Counts the caller towards `active_users` once the request is done (so `c.var.auth` is known), signed in with
 * a token or an API key. Not awaited: a slow or absent Redis must not delay or fail the response.
 */
export function activeUsers(redis: Redis, prefix: string, metrics: Metrics, now: () => number = Date.now) {
  const recorded = new Map<string, number>();
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const userId = c.get("auth")?.userId;
    if (!userId) return;
    const at = now();
    const last = recorded.get(userId);
    if (last !== undefined && at - last < ACTIVE_USER_RECORD_EVERY_MS && at >= last) return;
    if (recorded.size >= REMEMBERED_MAX) recorded.clear();
    recorded.set(userId, at);
    recordActiveUser(redis, prefix, userId, at).catch(() => {
      // Written again by the user's next request rather than after the interval.
      recorded.delete(userId);
      metrics.sourceErrors.inc({ source: "active_users" });
    });
  });
}
