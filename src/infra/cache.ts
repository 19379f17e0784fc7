import type { Redis } from "ioredis";
import type { Metrics } from "./metrics.ts";
import { startChildSpan } from "./tracing/spans.ts";

const RELEASE_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const MAX_WAIT_ERRORS = 3;
const RENEW_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

export type CacheOptions = {
  /**
   * Lease of the fill lock. A live holder renews it every third of the lease, so only a holder that died
   * (crash, lost connection) lets it expire, and then a waiter takes over.
   */
  lockTtlMs?: number;
  /** How long a waiter waits for a live holder before it loads by itself (default: one lease). */
  waitDeadlineMs?: number;
};

export type Cache = ReturnType<typeof createCache>;

/**
 * JSON values in Redis with a single-flight fill: on a miss one caller in the whole fleet takes a lock
 * (SET NX PX with a random token, released by compare-and-delete) and loads; the others poll with a short
 * growing backoff until the value appears, the lock disappears (holder died or failed: try to take it), or
 * their deadline passes (then they load themselves rather than fail the user).
 * Redis being down never fails a request: the loader runs uncached.
 */
export function createCache(redis: Redis, prefix: string, metrics: Metrics) {
  const k = (name: string, key: string) => `${prefix}cache:${name}:${key}`;

  async function get<T>(name: string, key: string): Promise<T | undefined> {
    try {
      const raw = await redis.get(k(name, key));
      return raw === null ? undefined : (JSON.parse(raw) as T);
    } catch {
      metrics.cacheErrors.inc({ cache: name });
      return undefined;
    }
  }

  async function set(name: string, key: string, value: unknown, ttlSeconds: number) {
    try {
      await redis.set(k(name, key), JSON.stringify(value), "EX", ttlSeconds);
    } catch {
      metrics.cacheErrors.inc({ cache: name });
    }
  }

  async function del(name: string, key: string) {
    try {
      await redis.del(k(name, key));
    } catch {
      metrics.cacheErrors.inc({ cache: name });
    }
  }

  async function getOrLoad<T>(
    name: string,
    key: string,
    ttlSeconds: number,
    loader: () => Promise<T>,
    opts: CacheOptions = {},
  ): Promise<T> {
    const lockTtlMs = opts.lockTtlMs ?? 10_000;
    const deadline = Date.now() + (opts.waitDeadlineMs ?? lockTtlMs);
    const valueKey = k(name, key);
    const lockKey = `${valueKey}:lock`;
    let waited = false;
    let backoffMs = 5;
    let errors = 0;
    // A waiter rides out a slow reply or two (a busy event loop times commands out); Redis that keeps failing,
    // or fails on the first look, is down: load uncached.
    const givesUp = () => {
      metrics.cacheErrors.inc({ cache: name });
      return !waited || ++errors >= MAX_WAIT_ERRORS || Date.now() >= deadline;
    };
    // Tracing on: a span from the first wait on another caller's fill to the end of this call.
    let waitSpan: ReturnType<typeof startChildSpan>;
    try {
      return await fill();
    } finally {
      waitSpan?.end();
    }

    async function fill(): Promise<T> {
      for (;;) {
        let raw: string | null;
        try {
          raw = await redis.get(valueKey);
          errors = 0;
        } catch {
          if (givesUp()) return loader();
          await Bun.sleep(backoffMs);
          continue;
        }
        if (raw !== null) {
          metrics.cacheHits.inc({ cache: name });
          return JSON.parse(raw) as T;
        }
        const token = crypto.randomUUID();
        let locked: string | null;
        try {
          locked = await redis.set(lockKey, token, "PX", lockTtlMs, "NX");
        } catch {
          if (givesUp()) return loader();
          await Bun.sleep(backoffMs);
          continue;
        }
        if (locked === "OK") {
          const renew = setInterval(
            () => {
              redis.eval(RENEW_LOCK, 1, lockKey, token, lockTtlMs).catch(() => {});
            },
            Math.max(50, Math.floor(lockTtlMs / 3)),
          );
          try {
            // The previous holder may have stored the value and released the lock between our read and our SET:
            // look again, or a stampede would reach the loader twice.
            const filled = await redis.get(valueKey).catch(() => null);
            if (filled !== null) {
              metrics.cacheHits.inc({ cache: name });
              return JSON.parse(filled) as T;
            }
            metrics.cacheMisses.inc({ cache: name });
            const value = await loader();
            if (value !== undefined) await set(name, key, value, ttlSeconds);
            return value;
          } finally {
            clearInterval(renew);
            await redis.eval(RELEASE_LOCK, 1, lockKey, token).catch(() => {});
          }
        }
        if (!waited) {
          metrics.cacheLockWaits.inc({ cache: name });
          waitSpan = startChildSpan("cache wait", { "plant.cache.name": name });
        }
        waited = true;
        if (Date.now() >= deadline) {
          metrics.cacheLockTimeouts.inc({ cache: name });
          metrics.cacheMisses.inc({ cache: name });
          return loader();
        }
        await Bun.sleep(Math.min(backoffMs, Math.max(1, deadline - Date.now())));
        backoffMs = Math.min(backoffMs * 2, 100);
      }
    }
  }

  return { get, set, del, getOrLoad };
}
