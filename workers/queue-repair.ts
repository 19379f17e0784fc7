import type { Lane } from "../src/infra/queues.ts";
import { queueMetrics } from "../src/infra/queue-metrics.ts";
import type { WorkerDeps } from "./job-types.ts";

/**
 * Re-adds to the ready set any group that has a waiting head job, nothing running and is not ready: the
 * "stuck group" left behind when a worker dies between popping a group and reserving its job (an open upstream
 * groupmq issue). Harmless when nothing is stuck; bounded to `limit` groups per run.
 */
const REPAIR_READY = `
local ns = KEYS[1]
local limit = tonumber(ARGV[1])
local groupsKey = ns .. ":groups"
local groups
if redis.call("SCARD", groupsKey) > limit then
  groups = redis.call("SRANDMEMBER", groupsKey, limit)
else
  groups = redis.call("SMEMBERS", groupsKey)
end
local repaired = 0
for _, gid in ipairs(groups) do
  local gZ = ns .. ":g:" .. gid
  if redis.call("LLEN", gZ .. ":active") == 0 and not redis.call("ZSCORE", ns .. ":ready", gid) then
    local head = redis.call("ZRANGE", gZ, 0, 0, "WITHSCORES")
    if head and #head >= 2 and redis.call("HGET", ns .. ":job:" .. head[1], "status") == "waiting" then
      redis.call("ZADD", ns .. ":ready", tonumber(head[2]), gid)
      repaired = repaired + 1
    end
  end
end
return repaired
`;

/** Samples lane depth for /metrics (counts scan every group: every QUEUE_METRICS_INTERVAL_MS, never per request). */
export function startQueueHealth(deps: WorkerDeps, lanes: readonly Lane[]): { stop(): void } {
  const metrics = queueMetrics(deps.metrics.registry);
  const sample = async () => {
    for (const lane of lanes) {
      const queue = deps.queues.queue(lane);
      try {
        const [waiting, active, delayed] = await Promise.all([
          queue.getWaitingCount(),
          queue.getActiveCount(),
          queue.getDelayedCount(),
        ]);
        metrics.depth.set({ lane, state: "waiting" }, waiting);
        metrics.depth.set({ lane, state: "active" }, active);
        metrics.depth.set({ lane, state: "delayed" }, delayed);
        const repaired = Number(await queue.redis.eval(REPAIR_READY, 1, queue.namespace, 500));
        if (repaired > 0) deps.logger.warn({ lane, repaired }, "stuck queue groups made ready again");
      } catch (err) {
        deps.logger.warn({ lane, err: String(err) }, "queue health sample failed");
      }
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), deps.config.queues.metricsIntervalMs);
  return { stop: () => clearInterval(timer) };
}
