/**
 * `bun run drill worker-killed`: the identification worker is killed with SIGKILL while it runs jobs (the
 * provider simulator answers slowly, so jobs are mid-run), and a new worker process starts 2 s later, as the
 * platform would restart it. Production lease (QUEUE_LEASE_MS, 30 s): the dead worker's jobs are handed out
 * again once their lease runs out. Every accepted identification must complete exactly once.
 */
import { startRedis } from "../../tests/helpers/servers/redis.ts";
import { startFaultStack } from "./_fault-stack.ts";
import { prepareUsers, printLogSummary, printLosses, printPhase, startLoad } from "./_load.ts";

export default async function drill() {
  const redis = await startRedis();
  const stack = await startFaultStack({ redisEnv: { REDIS_URL: redis.url } });
  try {
    const api = await stack.startApi();
    await stack.startWorker("fast,slow");
    const victim = await stack.startWorker("default");
    await stack.sim.control.setLatency("plant-id", 1_500);
    const { users, speciesId } = await prepareUsers(api.url, 8);
    const load = await startLoad({
      target: () => api.url,
      users,
      speciesId,
      kinds: ["identify", "species", "me"],
    });
    const t0 = Date.now();
    await Bun.sleep(5_000);
    const running = (await stack.statusOf([...load.accepted])).processing ?? 0;
    const killedAt = Date.now();
    victim.kill("SIGKILL");
    await victim.exited;
    await Bun.sleep(2_000);
    await stack.startWorker("default");
    const restartedAt = Date.now();
    await Bun.sleep(5_000);
    await load.stop();
    const end = Date.now();

    console.log(
      `\nworker-killed: default-lane worker kill -9 with jobs running (Plant.id answering in 1.5 s); new worker 2 s later`,
    );
    printPhase("before", load.samples, t0, killedAt);
    printPhase("after the kill", load.samples, killedAt, end);
    const { lost, doubled } = await printLosses(stack, load.accepted, 90_000);
    console.log(
      `all ${load.accepted.length} accepted identifications completed ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill ` +
        `(lease ${stack.env.QUEUE_LEASE_MS ?? "30000 (default)"} ms; new worker up ${((restartedAt - killedAt) / 1000).toFixed(1)} s after it); ` +
        `lost ${lost}, notified twice ${doubled}; identifications mid-run at the kill: ${running}`,
    );
    printLogSummary(stack);
  } finally {
    await stack.stop();
    await redis.stop();
  }
}
