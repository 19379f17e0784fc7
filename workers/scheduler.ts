import type { JobName } from "../src/infra/job-catalogue.ts";
import { enqueue } from "../src/infra/queues.ts";
import { requeueStranded } from "../src/modules/identifications/stranded.ts";
import type { WorkerDeps } from "./job-types.ts";

type Schedule = {
  name: Extract<
    JobName,
    "media.purge" | "uploads.sweep" | "cache.warm" | "csp.daily-report" | "account.erase"
  >;
  everyMs: number;
};

/**
 * Runs in every slow-lane worker process; each period's run is claimed once across the fleet (SET NX on the
 * period number), so three slow workers still purge once an hour. The first period starts at boot.
 */
export function startScheduler(deps: WorkerDeps): { stop(): void } {
  const { jobs } = deps.config;
  const schedules: Schedule[] = [
    { name: "media.purge", everyMs: jobs.mediaPurgeEveryMs },
    { name: "uploads.sweep", everyMs: deps.config.mediaFlows.sweepEveryMs },
    { name: "cache.warm", everyMs: jobs.cacheWarmEveryMs },
    // Periods of a day start at UTC midnight: each run reports the day that just ended.
    { name: "csp.daily-report", everyMs: 86_400_000 },
    { name: "account.erase", everyMs: deps.config.accountData.erasureEveryMs },
  ];
  const redis = deps.queues.redis;
  const tick = async () => {
    for (const s of schedules) {
      const period = Math.floor(Date.now() / s.everyMs);
      const claim = `${deps.config.redis.keyPrefix}schedule:${s.name}:${period}`;
      try {
        if ((await redis.set(claim, "1", "PX", s.everyMs * 2, "NX")) !== "OK") continue;
        try {
          await enqueue(deps, s.name, {}, { groupId: `system:${s.name}`, jobId: `${s.name}:${period}` });
          deps.logger.info({ job: s.name, period }, "scheduled job enqueued");
        } catch (err) {
          await redis.del(claim); // let the next tick (here or elsewhere) try again
          throw err;
        }
      } catch (err) {
        deps.logger.warn({ job: s.name, err: String(err) }, "scheduled job not enqueued");
      }
    }
  };
  // Once a minute across the fleet: work accepted by an API that died before enqueueing it gets its job.
  const sweepEveryMs = Math.min(60_000, jobs.strandedAfterMs);
  const sweep = async () => {
    const claim = `${deps.config.redis.keyPrefix}schedule:stranded:${Math.floor(Date.now() / sweepEveryMs)}`;
    try {
      if ((await redis.set(claim, "1", "PX", sweepEveryMs * 2, "NX")) !== "OK") return;
      await requeueStranded(deps, { olderThanMs: jobs.strandedAfterMs, limit: 500 });
    } catch (err) {
      deps.logger.warn({ err: String(err) }, "stranded work not re-enqueued");
    }
  };
  const intervalMs = Math.max(
    1_000,
    Math.min(60_000, sweepEveryMs / 2, ...schedules.map((s) => s.everyMs / 4)),
  );
  void tick();
  void sweep();
  const timer = setInterval(() => {
    void tick();
    void sweep();
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
