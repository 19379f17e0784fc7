import type { Redis } from "ioredis";
import type { Config } from "../../config/index.ts";
import { sha256Hex } from "./secrets.ts";

/**
 * Sign-in throttling with growing delays instead of a lock a stranger could trigger. Two buckets, each a count
 * of attempts `f` and the time of the last one `l`:
 * - per (account, client network): after `networkFree` attempts, each next one waits base·2^(f-free), capped
 *   at an hour: one network gets a handful of guesses a day;
 * - per account, whatever the network: after `accountFree` attempts, waits grow to a 15-minute cap: many
 *   networks together get about a hundred guesses a day.
 * An admitted attempt is counted at once (so parallel requests cannot slip through together) and refunded when
 * the password was right. Accounts are keyed by the hashed address whether or not it exists, so the throttle
 * says nothing about who is registered. The owner is never shut out: a client proving a live session, or a
 * correct password with an e-mailed code, passes (see auth.service.ts). Buckets are forgotten after a quiet day.
 */
const ADMIT = `
local now = tonumber(ARGV[1])
local base = tonumber(ARGV[2])
local forget = tonumber(ARGV[3])
local function wait(key, free, cap)
  if free < 0 then return 0, 0 end
  local f = tonumber(redis.call('HGET', key, 'f') or '0')
  local l = tonumber(redis.call('HGET', key, 'l') or '0')
  if f < free then return 0, f end
  local ready = l + math.min(cap, base * 2 ^ (f - free))
  if now >= ready then return 0, f end
  return ready - now, f
end
local waitNet = wait(KEYS[1], tonumber(ARGV[4]), tonumber(ARGV[5]))
local waitAcct, acct = wait(KEYS[2], tonumber(ARGV[6]), tonumber(ARGV[7]))
local w = math.max(waitNet, waitAcct)
if w > 0 then return {0, math.ceil(w), acct} end
for i, key in ipairs(KEYS) do
  if i == 1 or tonumber(ARGV[6]) >= 0 then
    redis.call('HINCRBY', key, 'f', 1)
    redis.call('HSET', key, 'l', now)
    redis.call('PEXPIRE', key, forget)
  end
end
return {1, 0, acct + 1}
`;

const REFUND = `
redis.call('DEL', KEYS[1])
if ARGV[1] == '1' and tonumber(redis.call('HGET', KEYS[2], 'f') or '0') > 0 then
  redis.call('HINCRBY', KEYS[2], 'f', -1)
end
return 1
`;

type WithCommands = Redis & {
  pcLoginAdmit(net: string, acct: string, ...args: number[]): Promise<[number, number, number]>;
  pcLoginRefund(net: string, acct: string, counted: string): Promise<number>;
};

export type Admission =
  | { allowed: true; accountAttempts: number }
  | { allowed: false; waitMs: number; accountAttempts: number };

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

/** The hashed, normalised address: the throttle's key for an account, existing or not. */
export const accountKey = (email: string) => sha256Hex(email.toLowerCase());

export function createLoginThrottle(
  redis: Redis,
  keyPrefix: string,
  config: Config["accountSecurity"]["throttle"],
  now: () => number,
) {
  const client = redis as WithCommands;
  if (typeof client.pcLoginAdmit !== "function") {
    redis.defineCommand("pcLoginAdmit", { numberOfKeys: 2, lua: ADMIT });
    redis.defineCommand("pcLoginRefund", { numberOfKeys: 2, lua: REFUND });
  }
  const netKey = (account: string, subject: string) => `${keyPrefix}login:net:${account}:${subject}`;
  const acctKey = (account: string) => `${keyPrefix}login:acct:${account}`;

  return {
    config,
    /**
     * Admits one attempt by `subject` (a client network, or `device:<session>` for a client proving a session)
     * or says how long to wait. `account: false` leaves the account-wide bucket out (a proven device).
     */
    async admit(
      account: string,
      subject: string,
      opts: { account: boolean } = { account: true },
    ): Promise<Admission> {
      const [allowed, waitMs, accountAttempts] = await client.pcLoginAdmit(
        netKey(account, subject),
        acctKey(account),
        now(),
        config.baseDelaySeconds * 1000,
        config.forgetSeconds * 1000,
        config.networkFree,
        config.networkMaxDelaySeconds * 1000,
        opts.account ? config.accountFree : -1,
        config.accountMaxDelaySeconds * 1000,
      );
      return allowed === 1 ? { allowed: true, accountAttempts } : { allowed: false, waitMs, accountAttempts };
    },
    /** The password was right: this subject starts afresh; the account bucket gets this attempt back. */
    async succeeded(
      account: string,
      subject: string,
      opts: { account: boolean } = { account: true },
    ): Promise<void> {
      await client.pcLoginRefund(netKey(account, subject), acctKey(account), opts.account ? "1" : "0");
    },
    /** After a password reset the attacker's guesses are moot: the account's bucket is emptied. */
    async forgetAccount(email: string): Promise<void> {
      await redis.del(acctKey(accountKey(email)));
    },
  };
}
