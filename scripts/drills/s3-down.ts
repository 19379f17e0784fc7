/**
 * `bun run drill s3-down [seconds]`: media storage (S3: s3rver behind a proxy the drill cuts) unreachable for
 * 10 s (default) under mixed load, then back. Reads that need no image keep working; uploads answer 503 with
 * Retry-After (nothing half-written); everything recovers by itself.
 */
import { startRedis } from "../../tests/helpers/servers/redis.ts";
import { startFaultStack } from "./_fault-stack.ts";
import { printLogSummary, printLosses, printPhase, recoverySeconds, startSteadyLoad } from "./_load.ts";

export default async function drill(args: string[]) {
  const downSeconds = Number(args[0] ?? 10);
  const redis = await startRedis();
  const stack = await startFaultStack({ redisEnv: { REDIS_URL: redis.url }, s3: true });
  const proxy = stack.s3Proxy!;
  try {
    const { load, t0 } = await startSteadyLoad(stack);
    const downAt = Date.now();
    proxy.down();
    await Bun.sleep(downSeconds * 1_000);
    proxy.up();
    const backAt = Date.now();
    await Bun.sleep(8_000);
    await load.stop();
    const end = Date.now();

    console.log(`\ns3-down: S3 connections refused for ${downSeconds} s; 8 clients`);
    printPhase("before", load.samples, t0, downAt);
    const during = printPhase("during the outage", load.samples, downAt, backAt);
    printPhase("after S3 is back", load.samples, backAt, end);
    console.log(
      `outage p99 ${during.p99.toFixed(0)} ms, no answer within 10 s: ${during.hung}, ` +
        `recovered ${recoverySeconds(load.samples, backAt).toFixed(1)} s after S3 returned`,
    );
    await printLosses(stack, load.accepted);
    printLogSummary(stack);
  } finally {
    await stack.stop();
    await redis.stop();
  }
}
