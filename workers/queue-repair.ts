import type { Redis } from "ioredis";
import { GROUPMQ_LUA_PRELUDE } from "../src/infra/groupmq-keys.ts";
import { queueMetrics } from "../src/infra/queue-metrics.ts";
import type { Lane } from "../src/infra/queues.ts";
import type { WorkerDeps } from "./job-types.ts";

/**
 * Repairs the two ways a groupmq group gets stuck (open upstream issues), bounded to `limit` groups per run:
 * 1. A job recovered from a dead worker by groupmq's reserve script stays in its group's "active" list, so
 *    the group never runs again: an active entry without a processing lease is stale and is removed.
 * 2. A group with a runnable head job, nothing active and no place in the ready set is added back.
 * Harmless when nothing is stuck.
 */
const REPAIR_GROUPS = `${GROUPMQ_LUA_PRELUDE}
local limit = tonumber(ARGV[1])
local groups
if redis.call("SCARD", groupsKey) > limit then
  groups = redis.call("SRANDMEMBER", groupsKey, limit)
else
  groups = redis.call("SMEMBERS", groupsKey)
end
local repaired = 0
for _, gid in ipairs(groups) do
  local gZ = groupKey(gid)
  local activeKey = groupActiveKey(gid)
  for _, jobId in ipairs(redis.call("LRANGE", activeKey, 0, -1)) do
    if not redis.call("ZSCORE", processingKey, jobId) then
      redis.call("LREM", activeKey, 0, jobId)
      repaired = repaired + 1
    end
  end
  if redis.call("LLEN", activeKey) == 0 and not redis.call("ZSCORE", readyKey, gid) then
    local head = redis.call("ZRANGE", gZ, 0, 0, "WITHSCORES")
    if head and #head >= 2 and redis.call("HGET", jobKey(head[1]), F.status) ~= S.delayed then
      redis.call("ZADD", readyKey, tonumber(head[2]), gid)
      repaired = repaired + 1
    end
  end
end
return repaired
`;

/** One repair pass over at most `limit` groups of the queue at `namespace`; returns how many fixes it made. */
export async function repairGroups(redis: Redis, namespace: string, limit: number): Promise<number> {
  return Number(await redis.eval(REPAIR_GROUPS, 1, namespace, limit));
}

/** Repairs stuck groups of `lanes` every QUEUE_STALLED_CHECK_MS (as often as groupmq looks for stalled jobs). */
export function startGroupRepair(deps: WorkerDeps, lanes: readonly Lane[]): { stop(): void } {
  const metrics = queueMetrics(deps.metrics.registry);
  const repair = async () => {
    for (const lane of lanes) {
      const queue = deps.queues.queue(lane);
      try {
        const repaired = await repairGroups(queue.redis, queue.namespace, 500);
        if (repaired > 0) {
          metrics.repairs.inc({ lane }, repaired);
          deps.logger.warn({ lane, repaired }, "stuck queue groups repaired");
        }
      } catch (err) {
        deps.logger.warn({ lane, err: String(err) }, "queue repair failed");
      }
    }
  };
  const timer = setInterval(() => void repair(), deps.config.queues.stalledCheckMs);
  return { stop: () => clearInterval(timer) };
}
