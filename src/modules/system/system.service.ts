import { sql } from "kysely";
import type { Deps } from "../../deps.ts";
import type { DependencyCheck, Readiness } from "./system.schemas.ts";

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyCheck> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: "up", latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { status: "down", latencyMs: null };
  } finally {
    clearTimeout(timer);
  }
}

/** Every check in parallel, each with its own short deadline: an unreachable dependency costs one deadline. */
export async function checkReadiness(
  deps: Pick<Deps, "db" | "redis" | "config" | "queues">,
): Promise<Readiness> {
  const timeoutMs = deps.config.http.readyCheckTimeoutMs;
  const replicaDb = deps.db.replica;
  const [primary, replica, redis, queue] = await Promise.all([
    timed(() => sql`select 1`.execute(deps.db.primary), timeoutMs),
    replicaDb
      ? timed(() => sql`select 1`.execute(replicaDb), timeoutMs)
      : Promise.resolve<DependencyCheck>({ status: "not_configured", latencyMs: null }),
    timed(() => deps.redis.cache.ping(), timeoutMs),
    timed(() => deps.queues.canary(timeoutMs), timeoutMs),
  ]);
  if (replica.status === "up" && deps.db.monitor && !deps.db.monitor.usable) {
    // Lagging or failing its health probe: reads use the primary.
    replica.status = "degraded";
  }
  const critical = primary.status === "down" || redis.status === "down" || queue.status === "down";
  const degraded = replica.status === "down" || replica.status === "degraded";
  return {
    status: critical ? "not_ready" : degraded ? "degraded" : "ready",
    checks: { primary, replica, redis, queue },
  };
}
