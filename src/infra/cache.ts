import type { Redis } from "ioredis";
import { GENERATION_TTL_SECONDS, INVALIDATE_TAGS, STORE_IF_CURRENT, tagKeys } from "./cache-tags.ts";
import type { Metrics } from "./metrics.ts";
import { startChildSpan } from "./tracing/spans.ts";

const RELEASE_LOCK = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
/**
 * The value if there is one (it may have appeared since a GET that missed: a holder stored it and released its
 * lock in between), else the fill lock if it is free. One atomic step, one round trip: {1, value} | {2} (locked) | {0}.
 */
const LOCK_OR_VALUE = `local v = redis.call("get", KEYS[1])
if v then return {1, v} end
if redis.call("set", KEYS[2], ARGV[1], "PX", ARGV[2], "NX") then return {2} end
return {0}`;
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
  /**
   * Tags of the entry (`species:<id>`, `species-list`): `invalidateTags` drops every entry carrying one, on
   * every instance, and a fill that raced with the invalidation does not store (src/infra/cache-tags.ts).
   */
  tags?: readonly string[];
  /**
   * The entry is usually missing (a provider's answer for a photo never seen): the first round trip asks for the
   * value or else the fill lock (one Lua call) instead of a GET followed by that call, saving a round trip on
   * every miss for a script call on a hit.
   */
  missLikely?: boolean;
};

/** How values are stored: JSON by default; text as it is (already serialised bytes served without a parse). */
type Codec<T> = { encode(value: T): string; decode(raw: string): T };
const JSON_CODEC: Codec<unknown> = { encode: (v) => JSON.stringify(v), decode: (raw) => JSON.parse(raw) };
const TEXT_CODEC: Codec<string | undefined> = { encode: (v) => v as string, decode: (raw) => raw };

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

  async function set(name: string, key: string, value: unknown, ttlSeconds: number, encoded = false) {
    try {
      await redis.set(k(name, key), encoded ? (value as string) : JSON.stringify(value), "EX", ttlSeconds);
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

  /** Drops every entry carrying any of `tags`, fleet-wide; false when Redis could not be reached. */
  async function invalidateTags(tags: readonly string[]): Promise<boolean> {
    if (tags.length === 0) return true;
    const keys = tags.flatMap((tag) => {
      const t = tagKeys(prefix, tag);
      return [t.generation, t.members];
    });
    try {
      await redis.eval(INVALIDATE_TAGS, keys.length, ...keys, GENERATION_TTL_SECONDS);
      return true;
    } catch {
      metrics.cacheErrors.inc({ cache: "tags" });
      return false;
    }
  }

  /** The tags' generations now, to be compared when the loaded value is stored. */
  async function generationsOf(tags: readonly string[]): Promise<string[]> {
    if (tags.length === 0) return [];
    const gens = await redis.mget(...tags.map((tag) => tagKeys(prefix, tag).generation));
    return gens.map((g) => g ?? "0");
  }

  async function store(
    name: string,
    key: string,
    raw: string,
    ttlSeconds: number,
    tags: readonly string[],
    gens: string[],
  ) {
    if (tags.length === 0) return set(name, key, raw, ttlSeconds, true);
    const keys = [k(name, key), ...tags.map((tag) => tagKeys(prefix, tag).generation)];
    keys.push(...tags.map((tag) => tagKeys(prefix, tag).members));
    try {
      const stored = await redis.eval(STORE_IF_CURRENT, keys.length, ...keys, raw, ttlSeconds, ...gens);
      if (stored === 0) metrics.cacheStaleFills.inc({ cache: name });
    } catch {
      metrics.cacheErrors.inc({ cache: name });
    }
  }

  function getOrLoad<T>(
    name: string,
    key: string,
    ttlSeconds: number,
    loader: () => Promise<T>,
    opts: CacheOptions = {},
  ): Promise<T> {
    return fill(name, key, ttlSeconds, loader, opts, JSON_CODEC as Codec<T>);
  }

  /** A string entry stored and returned as it is (serialised JSON served as bytes, no parse round). */
  function getOrLoadText(
    name: string,
    key: string,
    ttlSeconds: number,
    loader: () => Promise<string | undefined>,
    opts: CacheOptions = {},
  ): Promise<string | undefined> {
    return fill(name, key, ttlSeconds, loader, opts, TEXT_CODEC);
  }

  async function fill<T>(
    name: string,
    key: string,
    ttlSeconds: number,
    loader: () => Promise<T>,
    opts: CacheOptions,
    codec: Codec<T>,
  ): Promise<T> {
    const tags = opts.tags ?? [];
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
      return await fillOnce();
    } finally {
      waitSpan?.end();
    }

    async function fillOnce(): Promise<T> {
      let lookFirst = !opts.missLikely;
      for (;;) {
        if (lookFirst) {
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
            return codec.decode(raw);
          }
        }
        // A waiter polls the value first: the lock is usually still held.
        lookFirst = true;
        const token = crypto.randomUUID();
        let locked: [number, string?];
        try {
          locked = (await redis.eval(LOCK_OR_VALUE, 2, valueKey, lockKey, token, lockTtlMs)) as [
            number,
            string?,
          ];
        } catch {
          if (givesUp()) return loader();
          await Bun.sleep(backoffMs);
          continue;
        }
        if (locked[0] === 1) {
          metrics.cacheHits.inc({ cache: name });
          return codec.decode(locked[1] as string);
        }
        if (locked[0] === 2) {
          const renew = setInterval(
            () => {
              redis.eval(RENEW_LOCK, 1, lockKey, token, lockTtlMs).catch(() => {});
            },
            Math.max(50, Math.floor(lockTtlMs / 3)),
          );
          try {
            metrics.cacheMisses.inc({ cache: name });
            // Read before loading: an invalidation between here and the store makes the store a no-op.
            const gens = await generationsOf(tags).catch(() => undefined);
            const value = await loader();
            // Neither the store nor the release (below) is waited for: the caller has its value, and both go out
            // on this one connection in this order, ahead of anything the caller sends next, so a waiter never
            // sees the lock gone before the value and the caller's own next read sees it. Both handle their
            // errors (a lost store is a later miss; a lost release expires with its lease).
            if (value !== undefined && gens)
              void store(name, key, codec.encode(value), ttlSeconds, tags, gens);
            return value;
          } finally {
            clearInterval(renew);
            redis.eval(RELEASE_LOCK, 1, lockKey, token).catch(() => {});
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

  return { get, set, del, getOrLoad, getOrLoadText, invalidateTags };
}
