/**
 * The set-up of a worker end-to-end file: useIdentifyApp's simulator, media folder and app (its groupmq keys
 * removed after the file), plus real worker processes started against that app, each stopped after its test.
 */
import { afterEach } from "bun:test";
import type { Lane } from "../../src/infra/queues.ts";
import { type IdentifyFixture, identifyEnv, useIdentifyApp } from "./identify.ts";
import { removeQueueKeys, startWorkerProcess, type WorkerProcess, workerEnv } from "./workers.ts";

export type WorkerE2eFixture = IdentifyFixture & {
  /** A worker process on `lanes`, identifying with the file's simulator (`env` of useWorkerE2e, then `extra`). */
  startWorker(lanes: readonly Lane[], extra?: Record<string, string>): Promise<WorkerProcess>;
};

/** `env` configures both the app and its workers (e.g. breaker settings both must share). */
export function useWorkerE2e(env: Record<string, string> = {}): WorkerE2eFixture {
  const fx = useIdentifyApp(env, { beforeClose: removeQueueKeys });
  const workers: WorkerProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
  });
  return {
    get sim() {
      return fx.sim;
    },
    get app() {
      return fx.app;
    },
    get dir() {
      return fx.dir;
    },
    async startWorker(lanes, extra = {}) {
      const w = await startWorkerProcess(
        workerEnv(fx.app, lanes, { ...identifyEnv(fx.sim, fx.dir, env), ...extra }),
      );
      workers.push(w);
      return w;
    },
  };
}
