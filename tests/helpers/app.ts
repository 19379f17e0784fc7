import { createApp } from "../../src/app.ts";
import { type Config, parseConfig } from "../../src/config/index.ts";
import { buildDeps, type Deps, type DepsOverrides } from "../../src/deps.ts";
import { createLogger } from "../../src/infra/logger.ts";
import type { Services } from "../../src/services.ts";
import { testEnv } from "./env.ts";

export type TestApp = {
  deps: Deps;
  /** The services the app's routers use (src/services.ts): for calling a service as another transport would. */
  services: Services;
  config: Config;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** For Bun.serve when a real client (a browser) must reach the app: `fetch: app.serve`. */
  serve?(req: Request, server: Bun.Server<undefined>): Response | Promise<Response>;
  close(): Promise<void>;
};

/** A fresh app on the shared test databases, with its own Redis key space so tests never see each other. */
export async function createTestApp(
  env: Record<string, string> = {},
  overrides: DepsOverrides = {},
): Promise<TestApp> {
  const config = parseConfig({
    NODE_ENV: "test",
    DATABASE_URL: testEnv.databaseUrl,
    DATABASE_REPLICA_URL: testEnv.replicaUrl,
    REDIS_URL: testEnv.redisUrl,
    REDIS_KEY_PREFIX: `test:${crypto.randomUUID()}:`,
    LOG_LEVEL: "silent",
    REPLICA_HEALTH_INTERVAL_MS: "200",
    // As on Fly.io: tests give each simulated client its own IP (tests/helpers/auth.ts), so per-IP limits hold.
    TRUST_PROXY_HEADER: "Fly-Client-IP",
    ...env,
  });
  const deps = await buildDeps(config, { logger: createLogger("silent"), ...overrides });
  const { app, services } = createApp(deps);
  return {
    deps,
    services,
    config,
    request: (path, init) => Promise.resolve(app.request(path, init)),
    serve: (req, server) => app.fetch(req, { server, request: req }),
    async close() {
      const keys = await deps.redis.cache.keys(`${config.redis.keyPrefix}*`);
      if (keys.length) await deps.redis.cache.del(...keys);
      await deps.close();
    },
  };
}

/** Polls `check` until it returns a truthy value or the deadline passes: synchronisation without sleeps. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  // Generous by default: the deadline only matters when something is wrong, and loaded machines are slow.
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let delay = 5;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? "condition"}`);
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}
