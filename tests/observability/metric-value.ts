import type { Registry } from "prom-client";
import { parseConfig } from "../../src/config/index.ts";
import { buildDeps } from "../../src/deps.ts";
import { createLogger, type Logger } from "../../src/infra/logger.ts";
import { testEnv } from "../helpers/env.ts";

/**
 * Sum of the samples named `name` whose labels include `labels` (a histogram's `x_count`, `x_sum` and
 * `x_bucket` are read from family `x`). Runs the family's collect(), as a scrape would.
 */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const family =
    registry.getSingleMetric(name) ?? registry.getSingleMetric(name.replace(/_(count|sum|bucket)$/, ""));
  if (!family) throw new Error(`no metric family for ${name}`);
  const { values } = await family.get();
  return values
    .filter((v) => ((v as { metricName?: string }).metricName ?? name) === name)
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A real pino logger whose JSON lines the test can read. */
export function capturingLogger(level = "info"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, { write: (chunk: string) => void lines.push(JSON.parse(chunk)) });
  return { logger, lines };
}

/** Deps on the shared test databases with their own Redis key space, without building the HTTP app. */
export async function createTestDeps(env: Record<string, string> = {}, logger?: Logger) {
  const config = parseConfig({
    NODE_ENV: "test",
    DATABASE_URL: testEnv.databaseUrl,
    DATABASE_REPLICA_URL: testEnv.replicaUrl,
    REDIS_URL: testEnv.redisUrl,
    REDIS_KEY_PREFIX: `test:${crypto.randomUUID()}:`,
    LOG_LEVEL: "silent",
    REPLICA_HEALTH_INTERVAL_MS: "200",
    ...env,
  });
  const deps = await buildDeps(config, { logger: logger ?? createLogger("silent") });
  return {
    deps,
    config,
    async close() {
      const keys = await deps.redis.cache.keys(`${config.redis.keyPrefix}*`);
      if (keys.length) await deps.redis.cache.del(...keys);
      await deps.close();
    },
  };
}
