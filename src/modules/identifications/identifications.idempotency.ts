import type { Redis } from "ioredis";
import { AppError } from "../../core/app-error.ts";
import type { Logger } from "../../infra/logger.ts";

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * While one request with an Idempotency-Key is being served, a concurrent one with the same key is told to
 * retry (409) instead of identifying a second time. The database keeps the outcome; this lock only covers the
 * work in flight. Without Redis the work goes ahead: the unique key in the database still prevents duplicates.
 */
export async function withIdempotencyLock<T>(
  opts: { redis: Redis; keyPrefix: string; userId: string; key: string; ttlMs: number; logger: Logger },
  work: () => Promise<T>,
): Promise<T> {
  const digest = new Bun.CryptoHasher("sha256").update(opts.key).digest("hex");
  const lockKey = `${opts.keyPrefix}idempotency:${opts.userId}:${digest}`;
  const token = crypto.randomUUID();
  let locked = true;
  try {
    locked = (await opts.redis.set(lockKey, token, "PX", opts.ttlMs, "NX")) === "OK";
  } catch (err) {
    opts.logger.warn({ err: String(err) }, "idempotency lock not taken: Redis unavailable");
    return work();
  }
  if (!locked) {
    throw new AppError(
      "idempotency_key_in_use",
      "A request with this Idempotency-Key is still being processed; retry shortly.",
      {
        retryAfterSeconds: 1,
      },
    );
  }
  try {
    return await work();
  } finally {
    await opts.redis.eval(RELEASE, 1, lockKey, token).catch(() => {});
  }
}
