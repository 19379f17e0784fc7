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
  } catch (err) {
    return { status: "down", latencyMs: null, detail: err instanceof Error ? err.message : "unreachable" };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(deps: Pick<Deps, "db" | "redis" | "config">): Promise<Readiness> {
  const timeoutMs = deps.config.http.readyCheckTimeoutMs;
  const replicaDb = deps.db.replica;
  const [primary, replica, redis] = await Promise.all([
    timed(() => sql`select 1`.execute(deps.db.primary), timeoutMs),
    replicaDb
      ? timed(() => sql`select 1`.execute(replicaDb), timeoutMs)
      : Promise.resolve<DependencyCheck>({ status: "not_configured", latencyMs: null }),
    timed(() => deps.redis.cache.ping(), timeoutMs),
  ]);
  if (replica.status === "up" && deps.db.monitor && !deps.db.monitor.usable) {
    replica.status = "degraded";
    replica.detail = `replica ${deps.db.monitor.reason}; reads use the primary`;
  }
  const critical = primary.status === "down" || redis.status === "down";
  const degraded = replica.status === "down" || replica.status === "degraded";
  return {
    status: critical ? "not_ready" : degraded ? "degraded" : "ready",
    checks: { primary, replica, redis },
  };
}
