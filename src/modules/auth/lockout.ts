import type { Redis } from "ioredis";
import type { Config } from "../../config.ts";

/**
 * Account lockout, keyed by the (hashed) normalised email whatever the IPs, and whether or not the account
 * exists, so the lock itself does not reveal which addresses are registered. Failures are kept exactly (a
 * sorted set of at most `threshold` timestamps): `threshold` failures within the window lock for `duration`.
 */
const RECORD_FAILURE = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local duration = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) >= threshold then
  redis.call('SET', KEYS[2], tostring(now + duration), 'PX', duration)
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

type WithCommand = Redis & {
  pcRecordLoginFailure(failures: string, lock: string, ...args: (string | number)[]): Promise<number>;
};

export type Lockout = ReturnType<typeof createLockout>;

export function createLockout(
  redis: Redis,
  keyPrefix: string,
  config: Config["auth"]["lockout"],
  now: () => number,
) {
  const client = redis as WithCommand;
  if (typeof client.pcRecordLoginFailure !== "function") {
    redis.defineCommand("pcRecordLoginFailure", { numberOfKeys: 2, lua: RECORD_FAILURE });
  }
  const failuresKey = (account: string) => `${keyPrefix}lockout:failures:${account}`;
  const lockKey = (account: string) => `${keyPrefix}lockout:locked:${account}`;

  return {
    /** Milliseconds the lock still holds, or 0. The value is the unlock time on our clock (the TTL only cleans up). */
    async lockedForMs(account: string): Promise<number> {
      const until = await redis.get(lockKey(account));
      return until ? Math.max(0, Number(until) - now()) : 0;
    },
    /** Returns true when this failure locked the account. */
    async recordFailure(account: string): Promise<boolean> {
      const locked = await client.pcRecordLoginFailure(
        failuresKey(account),
        lockKey(account),
        now(),
        config.windowSeconds * 1000,
        config.threshold,
        config.durationSeconds * 1000,
        crypto.randomUUID(),
      );
      return locked === 1;
    },
    async clear(account: string): Promise<void> {
      await redis.del(failuresKey(account), lockKey(account));
    },
  };
}
