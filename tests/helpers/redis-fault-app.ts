/**
 * The set-up of a Redis fault file: a redis-server of the file's own (faults are done to it, never to the
 * machine's shared Redis), a provider simulator, a media folder and a test app identifying with them on that
 * Redis; made before the file's tests and removed after them. The app's deps are closed without its key
 * clean-up: the throwaway Redis goes with its keys.
 */
import { afterAll, beforeAll } from "bun:test";
import type { ProviderSimulator } from "../simulators/provider-simulator.ts";
import { createTestApp, type TestApp } from "./app.ts";
import { identifyEnv, mediaDir, removeDir, startSimulator } from "./identify.ts";
import { type RedisProcess, startRedis } from "./servers/redis.ts";

export type RedisFaultFixture = {
  readonly redis: RedisProcess;
  readonly sim: ProviderSimulator;
  readonly dir: string;
  readonly app: TestApp;
  /** What another process (a worker) needs to identify with the simulator on the file's Redis. */
  env(): Record<string, string>;
};

/** `appEnv` goes on top of the app's environment; `beforeClose` runs after the tests, before anything stops. */
export function useRedisFaultApp(
  appEnv: Record<string, string> = {},
  opts: { beforeClose?: () => Promise<void> } = {},
): RedisFaultFixture {
  let redis: RedisProcess | undefined;
  let sim: ProviderSimulator | undefined;
  let dir: string | undefined;
  let app: TestApp | undefined;
  const fx: RedisFaultFixture = {
    get redis() {
      return redis!;
    },
    get sim() {
      return sim!;
    },
    get dir() {
      return dir!;
    },
    get app() {
      return app!;
    },
    env: () => ({ ...identifyEnv(fx.sim, fx.dir), REDIS_URL: fx.redis.url }),
  };
  beforeAll(async () => {
    redis = await startRedis();
    sim = startSimulator();
    dir = await mediaDir();
    app = await createTestApp({ ...fx.env(), ...appEnv });
  });
  afterAll(async () => {
    await opts.beforeClose?.();
    await app?.deps.close();
    await sim?.stop();
    await redis?.stop();
    if (dir) await removeDir(dir);
  });
  return fx;
}
