import type { Redis } from "ioredis";

/**
 * Puts a running job back at the head of its group without spending an attempt: what a draining worker does
 * with a job it cannot finish before its deadline. groupmq has no such operation; this follows its documented
 * key layout (`:job:`, `:processing`, `:g:<group>`, `:ready`) and the "recovered" branch of its stalled check,
 * but does not count a stall. Returns false when the job was no longer ours (completed, recovered elsewhere).
 */
const RELEASE = `
local ns = KEYS[1]
local jobId = ARGV[1]
local counted = ARGV[2] == "1"
local jobKey = ns .. ":job:" .. jobId
if redis.call("HGET", jobKey, "status") ~= "processing" then return 0 end
if not redis.call("ZSCORE", ns .. ":processing", jobId) then return 0 end
local gid = redis.call("HGET", jobKey, "groupId")
local score = tonumber(redis.call("HGET", jobKey, "score"))
if not gid or not score then return 0 end
redis.call("ZREM", ns .. ":processing", jobId)
redis.call("DEL", ns .. ":processing:" .. jobId)
redis.call("LREM", ns .. ":g:" .. gid .. ":active", 1, jobId)
local gZ = ns .. ":g:" .. gid
redis.call("ZADD", gZ, score, jobId)
redis.call("SADD", ns .. ":groups", gid)
redis.call("HSET", jobKey, "status", "waiting")
-- A handed-back run is not a crash: undo the start the worker counted (if it got that far).
if counted then redis.call("HINCRBY", jobKey, "pcStarts", -1) end
local head = redis.call("ZRANGE", gZ, 0, 0, "WITHSCORES")
if head and #head >= 2 then redis.call("ZADD", ns .. ":ready", tonumber(head[2]), gid) end
return 1
`;

/** `counted`: the worker already counted this run's start (lane-worker.ts), which the release undoes. */
export async function releaseJob(
  redis: Redis,
  namespace: string,
  jobId: string,
  counted: boolean,
): Promise<boolean> {
  return (await redis.eval(RELEASE, 1, namespace, jobId, counted ? "1" : "0")) === 1;
}
