import type { Metrics, QueueDepths } from "./metrics.ts";
import type { Lane, LaneQueues } from "./queues.ts";

export type QueueDepthCollectorOptions = {
  /** How long one reading serves scrapes. Counting scans every group, so keep it at 15-30 s. */
  cacheMs?: number;
  now?: () => number;
};

/**
 * Makes the `queue_depth{lane,state}` gauge read `readDepths()` at scrape time, at most once per `cacheMs`
 * and once at a time however many scrapes arrive together. A failed read leaves the gauge empty for that
 * scrape (counted in metrics_source_errors_total) and is retried at the next one.
 */
export function registerQueueDepthCollector(
  metrics: Metrics,
  readDepths: () => Promise<QueueDepths>,
  opts: QueueDepthCollectorOptions = {},
): void {
  const cacheMs = opts.cacheMs ?? 15_000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; depths: QueueDepths } | undefined;
  let reading: Promise<QueueDepths> | undefined;
  metrics.sources.queueDepths = () => {
    if (cached && now() - cached.at < cacheMs) return Promise.resolve(cached.depths);
    reading ??= readDepths()
      .then((depths) => {
        cached = { at: now(), depths };
        return depths;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
}

/** Reads waiting, active, delayed and failed counts of `lanes` from groupmq (each count scans the groups). */
export function laneDepthReader(
  queues: Pick<LaneQueues, "queue">,
  lanes: readonly Lane[],
): () => Promise<QueueDepths> {
  return async () => {
    const entries = await Promise.all(
      lanes.map(async (lane) => {
        const queue = queues.queue(lane);
        const [waiting, active, delayed, failed] = await Promise.all([
          queue.getWaitingCount(),
          queue.getActiveCount(),
          queue.getDelayedCount(),
          queue.getFailedCount(),
        ]);
        return [lane, { waiting, active, delayed, failed }] as const;
      }),
    );
    return Object.fromEntries(entries);
  };
}
