/**
 * `bun run drill redis-restart`: Redis killed with SIGKILL and started again at once (empty: a crash and a
 * supervisor restart) under mixed load. The queues must take and run jobs again without restarting the API or
 * the workers (groupmq's scripts are reloaded on NOSCRIPT), and readiness must pass again.
 */
import { startRedis } from "../../tests/helpers/servers/redis.ts";
import { startFaultStack } from "./_fault-stack.ts";
import {
  firstSuccessSeconds,
  printLogSummary,
  printLosses,
  printPhase,
  recoverySeconds,
  startSteadyLoad,
} from "./_load.ts";

export default async function drill() {
  const redis = await startRedis();
  const stack = await startFaultStack({ redisEnv: { REDIS_URL: redis.url } });
  try {
    const { api, worker, load, t0 } = await startSteadyLoad(stack);
    const killedAt = Date.now();
    await redis.restart(); // kill -9, then start again, empty
    const backAt = Date.now();
    // Readiness of the API and the worker after the restart (they run the queue's scripts).
    let readyAt = Number.NaN;
    let healthyAt = Number.NaN;
    while (Date.now() - backAt < 10_000 && (Number.isNaN(readyAt) || Number.isNaN(healthyAt))) {
      if (Number.isNaN(readyAt) && (await fetch(`${api.url}/ready`)).status === 200) readyAt = Date.now();
      if (Number.isNaN(healthyAt) && (await fetch(worker.healthUrl)).status === 200) healthyAt = Date.now();
      await Bun.sleep(50);
    }
    await Bun.sleep(Math.max(0, 10_000 - (Date.now() - backAt)));
    await load.stop();
    const end = Date.now();

    console.log(
      `\nredis-restart: Redis kill -9 and started again at once (down ${backAt - killedAt} ms, empty); 8 clients`,
    );
    printPhase("before", load.samples, t0, killedAt);
    printPhase("restart + 10 s", load.samples, killedAt, end);
    const noscript = worker.lines.filter(
      (l) => /NOSCRIPT/.test(String(l.message ?? "")) && l.level !== "info",
    ).length;
    console.log(
      `first 202 ${firstSuccessSeconds(load.samples, "identify", backAt).toFixed(1)} s after the restart; ` +
        `all requests succeed again after ${recoverySeconds(load.samples, backAt).toFixed(1)} s; ` +
        `/ready 200 after ${((readyAt - backAt) / 1000).toFixed(1)} s, worker /healthz 200 after ${((healthyAt - backAt) / 1000).toFixed(1)} s; ` +
        `NOSCRIPT errors logged: ${noscript}`,
    );
    await printLosses(stack, load.accepted);
    printLogSummary(stack);
  } finally {
    await stack.stop();
    await redis.stop();
  }
}
