import type { Redis } from "ioredis";
import type { Metrics } from "./metrics.ts";

export const ACTIVE_USERS_WINDOW_MS = 15 * 60_000;

/*
 * One sorted set per key prefix: member = user id, score = time of the user's latest request. Unlike a
 * HyperLogLog per minute the count is exact and the "last 15 minutes" window slides by the millisecond; its
 * size is bounded by the users active in the window, since every scrape trims the older members.
 */
const keyOf = (prefix: string) => `${prefix}active-users`;

/** Notes that `userId` made a request at `now`. */
export async function recordActiveUser(
  redis: Redis,
  prefix: string,
  userId: string,
  now = Date.now(),
): Promise<void> {
  const key = keyOf(prefix);
  const results = await redis.pipeline().zadd(key, now, userId).pexpire(key, ACTIVE_USERS_WINDOW_MS).exec();
  throwFirstError(results);
}

/** Distinct users with a request in the 15 minutes up to `now`; forgets older ones. */
export async function countActiveUsers(redis: Redis, prefix: string, now = Date.now()): Promise<number> {
  const key = keyOf(prefix);
  const results = await redis
    .pipeline()
    .zremrangebyscore(key, "-inf", `(${now - ACTIVE_USERS_WINDOW_MS}`)
    .zcard(key)
    .exec();
  throwFirstError(results);
  return Number(results?.[1]?.[1] ?? 0);
}

/** Makes the `active_users` gauge read the count from Redis at every scrape. */
export function watchActiveUsers(
  metrics: Metrics,
  redis: Redis,
  prefix: string,
  now: () => number = Date.now,
): void {
  metrics.sources.activeUsers = () => countActiveUsers(redis, prefix, now());
}

function throwFirstError(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error("the Redis pipeline was discarded");
  for (const [err] of results) if (err) throw err;
}
