import type { Redis } from "ioredis";
import { deferredSince, GROUPMQ_LUA_PRELUDE } from "../src/infra/groupmq-keys.ts";

/**
 * Thrown by a job that cannot make progress before `delayMs` for a reason outside the job (an open circuit
 * breaker): the lane puts it back for later without spending an attempt, up to the lane's total wait cap
 * (QUEUE_DEFER_MAX_MS), after which it is dead-lettered with `cause` as the reason.
 */
export class JobDeferred extends Error {
  override readonly name = "JobDeferred";
  constructor(
    readonly delayMs: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`deferred for ${delayMs} ms: ${reason}`, options);
  }
}

/** The job waited for its dependency longer than the cap: a dead letter that says so. */
export class JobDeferralExpiredError extends Error {
  override readonly name = "JobDeferralExpiredError";
  constructor(reason: string, waitedMs: number, options?: { cause?: unknown }) {
    super(
      `${reason}: still unavailable after ${Math.round(waitedMs / 1000)} s of waiting (QUEUE_DEFER_MAX_MS)`,
      options,
    );
  }
}

/**
 * Moves a running job to groupmq's delayed set like its own retry does (retry.lua), but without counting an
 * attempt; the first deferral's time is kept on the job (OWN_FIELD.deferredSince) to enforce the cap across runs.
 * Follows groupmq's key layout (src/infra/groupmq-keys.ts). Returns how long the job has waited so far, or -1 when the
 * cap is reached (the job is left running for the caller to dead-letter), or -2 when the job is not ours.
 */
const DEFER = `${GROUPMQ_LUA_PRELUDE}
local jobId = ARGV[1]
local delayMs = tonumber(ARGV[2])
local capMs = tonumber(ARGV[3])
local counted = ARGV[4] == "1"
local hash = jobKey(jobId)
if redis.call("HGET", hash, F.status) ~= S.processing then return -2 end
if not redis.call("ZSCORE", processingKey, jobId) then return -2 end
local gid = redis.call("HGET", hash, F.groupId)
local score = tonumber(redis.call("HGET", hash, F.score))
if not gid or not score then return -2 end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call("HSETNX", hash, OWN.deferredSince, tostring(now))
local waited = now - tonumber(redis.call("HGET", hash, OWN.deferredSince))
if waited >= capMs then return -1 end
-- Never past the cap: the last run then happens right at it, and gives up if it must.
if waited + delayMs > capMs then delayMs = capMs - waited end
redis.call("ZREM", processingKey, jobId)
redis.call("DEL", leaseKey(jobId))
redis.call("LREM", groupActiveKey(gid), 1, jobId)
redis.call("ZADD", groupKey(gid), score, jobId)
redis.call("SADD", groupsKey, gid)
redis.call("ZADD", delayedKey, now + delayMs, jobId)
redis.call("HSET", hash, F.runAt, tostring(now + delayMs), F.status, S.delayed)
-- A deferred run is not a crash: undo the start the lane worker counted.
if counted then redis.call("HINCRBY", hash, OWN.starts, -1) end
return waited
`;

export type DeferResult =
  | { kind: "deferred"; waitedMs: number }
  | { kind: "expired"; waitedMs: number }
  | { kind: "lost" };

export async function deferJob(
  redis: Redis,
  namespace: string,
  jobId: string,
  opts: { delayMs: number; capMs: number; counted: boolean },
): Promise<DeferResult> {
  const waited = Number(
    await redis.eval(
      DEFER,
      1,
      namespace,
      jobId,
      String(Math.max(0, Math.round(opts.delayMs))),
      String(opts.capMs),
      opts.counted ? "1" : "0",
    ),
  );
  if (waited === -2) return { kind: "lost" };
  if (waited === -1) {
    const since = await deferredSince(redis, namespace, jobId);
    return { kind: "expired", waitedMs: Number.isFinite(since) ? Date.now() - since : opts.capMs };
  }
  return { kind: "deferred", waitedMs: waited };
}
