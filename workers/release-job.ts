import type { Redis } from "ioredis";
import { GROUPMQ_LUA_PRELUDE } from "../src/infra/groupmq-keys.ts";

/**
 * Puts a running job back at the head of its group without spending an attempt: what a draining worker does
 * with a job it cannot finish before its deadline. groupmq has no such operation; this follows its key layout
 * (src/infra/groupmq-keys.ts) and the "recovered" branch of its stalled check,
 * but does not count a stall. Returns false when the job was no longer ours (completed, recovered elsewhere).
 */
const RELEASE = `${GROUPMQ_LUA_PRELUDE}
local jobId = ARGV[1]
local counted = ARGV[2] == "1"
local hash = jobKey(jobId)
if redis.call("HGET", hash, F.status) ~= S.processing then return 0 end
if not redis.call("ZSCORE", processingKey, jobId) then return 0 end
local gid = redis.call("HGET", hash, F.groupId)
local score = tonumber(redis.call("HGET", hash, F.score))
if not gid or not score then return 0 end
redis.call("ZREM", processingKey, jobId)
redis.call("DEL", leaseKey(jobId))
redis.call("LREM", groupActiveKey(gid), 1, jobId)
local gZ = groupKey(gid)
redis.call("ZADD", gZ, score, jobId)
redis.call("SADD", groupsKey, gid)
redis.call("HSET", hash, F.status, S.waiting)
-- A handed-back run is not a crash: undo the start the worker counted (if it got that far).
if counted then redis.call("HINCRBY", hash, OWN.starts, -1) end
local head = redis.call("ZRANGE", gZ, 0, 0, "WITHSCORES")
if head and #head >= 2 then redis.call("ZADD", readyKey, tonumber(head[2]), gid) end
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
