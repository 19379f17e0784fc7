import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";

export type QuotaBudget = { daily: number; hourly: number };
export type QuotaDecision = { ok: true } | { ok: false; window: "hour" | "day"; retryAfterSeconds: number };
export type QuotaWindow = { limit: number | null; used: number; remaining: number | null; resetsAt: string };
export type QuotaStatus = { hourly: QuotaWindow; daily: QuotaWindow };

// Checks both windows and counts in both only when neither is spent, atomically for the whole fleet.
const TAKE_LUA = `
local hourly = tonumber(ARGV[1])
local daily = tonumber(ARGV[2])
if hourly > 0 and tonumber(redis.call("get", KEYS[1]) or "0") >= hourly then return 1 end
if daily > 0 and tonumber(redis.call("get", KEYS[2]) or "0") >= daily then return 2 end
redis.call("incr", KEYS[1])
redis.call("pexpire", KEYS[1], ARGV[3])
redis.call("incr", KEYS[2])
redis.call("pexpire", KEYS[2], ARGV[4])
return 0`;

type QuotaCommands = {
  providerQuotaTake(hourKey: string, dayKey: string, ...argv: number[]): Promise<number>;
};
const withScript = new WeakSet<Redis>();

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Hourly and daily call budgets per provider, counted in Redis (UTC windows). A spent budget means the
 * provider is skipped until the window turns. Redis trouble never blocks identification: the call goes ahead.
 */
export function createProviderQuota(opts: {
  redis: Redis;
  keyPrefix: string;
  budgets: Readonly<Record<string, QuotaBudget>>;
  now: () => number;
  logger: Logger;
}) {
  if (!withScript.has(opts.redis)) {
    opts.redis.defineCommand("providerQuotaTake", { numberOfKeys: 2, lua: TAKE_LUA });
    withScript.add(opts.redis);
  }
  const redis = opts.redis as Redis & QuotaCommands;
  const windows = (provider: string, now: number) => {
    const hour = Math.floor(now / HOUR_MS);
    const day = Math.floor(now / DAY_MS);
    const base = `${opts.keyPrefix}quota:${provider}`;
    return { hour, day, hourKey: `${base}:h:${hour}`, dayKey: `${base}:d:${day}` };
  };

  return {
    /** What each window has used so far (for operators); unknown counts read as 0 when Redis is unavailable. */
    async status(provider: string): Promise<QuotaStatus> {
      const budget = opts.budgets[provider] ?? { daily: 0, hourly: 0 };
      const w = windows(provider, opts.now());
      let counts: (string | null)[] = [null, null];
      try {
        counts = await redis.mget(w.hourKey, w.dayKey);
      } catch (err) {
        opts.logger.warn({ provider, err: String(err) }, "provider quota not read: Redis unavailable");
      }
      const window = (limit: number, used: number, endsAt: number): QuotaWindow => ({
        limit: limit === 0 ? null : limit,
        used,
        remaining: limit === 0 ? null : Math.max(0, limit - used),
        resetsAt: new Date(endsAt).toISOString(),
      });
      return {
        hourly: window(budget.hourly, Number(counts[0] ?? 0), (w.hour + 1) * HOUR_MS),
        daily: window(budget.daily, Number(counts[1] ?? 0), (w.day + 1) * DAY_MS),
      };
    },

    async take(provider: string): Promise<QuotaDecision> {
      const budget = opts.budgets[provider];
      if (!budget || (budget.daily === 0 && budget.hourly === 0)) return { ok: true };
      const now = opts.now();
      const { hour, day, hourKey, dayKey } = windows(provider, now);
      let verdict: number;
      try {
        verdict = await redis.providerQuotaTake(
          hourKey,
          dayKey,
          budget.hourly,
          budget.daily,
          HOUR_MS * 2,
          DAY_MS * 2,
        );
      } catch (err) {
        opts.logger.warn({ provider, err: String(err) }, "provider quota not checked: Redis unavailable");
        return { ok: true };
      }
      if (verdict === 0) return { ok: true };
      const windowEnd = verdict === 1 ? (hour + 1) * HOUR_MS : (day + 1) * DAY_MS;
      return {
        ok: false,
        window: verdict === 1 ? "hour" : "day",
        retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - now) / 1000)),
      };
    },
  };
}

export type ProviderQuota = ReturnType<typeof createProviderQuota>;
