import { randomInt } from "node:crypto";
import type { Redis } from "ioredis";
import { sha256Hex } from "./secrets.ts";

/** Wrong tries a code survives; with 8 digits that is 5 in 10^8 per code sent (and the password is needed too). */
const MAX_TRIES = 5;

const CHECK = `
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return 0 end
if h == ARGV[1] then return 1 end
if redis.call('HINCRBY', KEYS[1], 'n', 1) >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) end
return 0
`;

type WithCommand = Redis & { pcLoginCodeCheck(key: string, hash: string, max: number): Promise<number> };

export type LoginCodes = ReturnType<typeof createLoginCodes>;

/**
 * One-time sign-in codes e-mailed to an account's owner: a correct password with a valid code gets through
 * sign-in throttling. One live code per account (a new one replaces it), kept hashed, for `ttlSeconds`.
 */
export function createLoginCodes(redis: Redis, keyPrefix: string, ttlSeconds: number) {
  const client = redis as WithCommand;
  if (typeof client.pcLoginCodeCheck !== "function") {
    redis.defineCommand("pcLoginCodeCheck", { numberOfKeys: 1, lua: CHECK });
  }
  const key = (account: string) => `${keyPrefix}login:code:${account}`;
  return {
    async issue(account: string): Promise<string> {
      const code = String(randomInt(0, 100_000_000)).padStart(8, "0");
      await redis
        .multi()
        .del(key(account))
        .hset(key(account), "h", sha256Hex(code), "n", "0")
        .expire(key(account), ttlSeconds)
        .exec();
      return code;
    },
    /** True when `code` is the account's live code; a wrong one spends one of its tries. */
    async matches(account: string, code: string): Promise<boolean> {
      return (await client.pcLoginCodeCheck(key(account), sha256Hex(code), MAX_TRIES)) === 1;
    },
    /** A wrong password with the right code also spends a try (the code must not unlock unlimited guessing). */
    async spendTry(account: string): Promise<void> {
      await client.pcLoginCodeCheck(key(account), "-", MAX_TRIES);
    },
    async consume(account: string): Promise<void> {
      await redis.del(key(account));
    },
  };
}
