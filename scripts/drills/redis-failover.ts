/**
 * `bun run drill redis-failover`: Redis behind Sentinel (master + replica + three Sentinels, passwords on
 * both), mixed load, then `kill -9` of the master. The Sentinels promote the replica; the API and the worker
 * follow it without a restart. Prints what clients saw, the failover-to-first-success time, and whether every
 * identification accepted (202) before, during and after completed exactly once.
 */
import { startSentinelGroup } from "../../tests/helpers/servers/redis.ts";
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
  const group = await startSentinelGroup({
    password: `r-${crypto.randomUUID()}`,
    sentinelPassword: `s-${crypto.randomUUID()}`,
  });
  const stack = await startFaultStack({
    redisEnv: {
      REDIS_SENTINELS: group.sentinels,
      REDIS_SENTINEL_NAME: group.name,
      REDIS_PASSWORD: group.password ?? "",
      REDIS_SENTINEL_PASSWORD: group.sentinelPassword ?? "",
    },
  });
  try {
    const { load, t0 } = await startSteadyLoad(stack);
    const killedAt = Date.now();
    const promotedMs = await group.killMasterAndAwaitFailover();
    const promotedAt = killedAt + promotedMs;
    await Bun.sleep(10_000);
    await load.stop();
    const end = Date.now();

    console.log(`\nredis-failover: master kill -9 under load, 3 sentinels (down-after 500 ms); 8 clients`);
    printPhase("before", load.samples, t0, killedAt);
    const during = printPhase("kill -> promotion", load.samples, killedAt, promotedAt);
    printPhase("after promotion", load.samples, promotedAt, end);
    console.log(
      `replica promoted ${(promotedMs / 1000).toFixed(1)} s after the kill; failover-to-first-success: ` +
        `first 202 ${firstSuccessSeconds(load.samples, "identify", killedAt).toFixed(1)} s, ` +
        `first sign-in ${firstSuccessSeconds(load.samples, "login", killedAt).toFixed(1)} s after the kill; ` +
        `every request succeeds again ${recoverySeconds(load.samples, killedAt).toFixed(1)} s after the kill; ` +
        `no answer within 10 s: ${during.hung}`,
    );
    await printLosses(stack, load.accepted);
    printLogSummary(stack);
  } finally {
    await stack.stop();
    await group.stop();
  }
}
