/**
 * `bun run drill redis-down [seconds]`: Redis killed with SIGKILL under mixed load, down for 10 s (default),
 * then started again (empty). Prints what clients saw before / during / after, the recovery time, and what
 * was lost. Target during the outage: p99 < 1.5 s, every answer a 2xx or a 503 with Retry-After, none hung.
 */
import { startRedis } from "../../tests/helpers/servers/redis.ts";
import { startFaultStack } from "./_fault-stack.ts";
import { printLogSummary, printLosses, printPhase, recoverySeconds, startSteadyLoad } from "./_load.ts";

export default async function drill(args: string[]) {
  const downSeconds = Number(args[0] ?? 10);
  const redis = await startRedis();
  const stack = await startFaultStack({ redisEnv: { REDIS_URL: redis.url } });
  try {
    const { load, t0 } = await startSteadyLoad(stack);
    const killedAt = Date.now();
    await redis.kill();
    await Bun.sleep(downSeconds * 1_000);
    await redis.restart();
    const backAt = Date.now();
    await Bun.sleep(8_000);
    await load.stop();
    const end = Date.now();

    console.log(`\nredis-down: Redis kill -9, down ${downSeconds} s, started again empty; 8 clients`);
    printPhase("before", load.samples, t0, killedAt);
    const during = printPhase("during the outage", load.samples, killedAt, backAt);
    printPhase("after Redis is back", load.samples, backAt, end);
    console.log(
      `outage p99 ${during.p99.toFixed(0)} ms (target < 1500), no answer within 10 s: ${during.hung}, ` +
        `recovered ${recoverySeconds(load.samples, backAt).toFixed(1)} s after Redis returned`,
    );
    await printLosses(stack, load.accepted);
    printLogSummary(stack);
  } finally {
    await stack.stop();
    await redis.stop();
  }
}
