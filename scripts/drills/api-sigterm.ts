/**
 * `bun run drill api-sigterm`: two API processes behind a (client-side) balancer; one receives SIGTERM under
 * mixed load, as on a deploy. It stops accepting, lets requests in flight finish, closes its connections and
 * exits; the balancer sends new requests to the other. Prints what clients saw, requests in flight at the
 * signal and how they ended, the drain time, and what was lost.
 */
import { startRedis } from "../../tests/helpers/servers/redis.ts";
import { startFaultStack } from "./_fault-stack.ts";
import { prepareUsers, printLogSummary, printLosses, printPhase, startLoad } from "./_load.ts";

export default async function drill() {
  const redis = await startRedis();
  const stack = await startFaultStack({ redisEnv: { REDIS_URL: redis.url } });
  try {
    const a = await stack.startApi();
    const b = await stack.startApi();
    await stack.startWorker("default,fast,slow");
    const { users, speciesId } = await prepareUsers(a.url, 8);
    let aGone = false;
    // The balancer: A while it accepts connections, then B (a refused connection is retried there by Fly's proxy).
    const load = await startLoad({ target: () => (aGone ? b.url : a.url), users, speciesId });
    const t0 = Date.now();
    await Bun.sleep(3_000);
    const termAt = Date.now();
    a.kill("SIGTERM");
    const exited = a.exited.then(() => Date.now());
    const watcher = (async () => {
      while (!aGone) {
        const refused = load.samples.some((s) => s.api === a.url && s.status === 0 && s.at >= termAt);
        if (refused || a.pid === 0) aGone = true;
        else await Bun.sleep(5);
      }
    })();
    const exitAt = await exited;
    aGone = true;
    await watcher;
    await Bun.sleep(5_000);
    await load.stop();
    const end = Date.now();

    const inFlight = load.samples.filter((s) => s.api === a.url && s.at < termAt && s.at + s.ms > termAt);
    const afterTerm = load.samples.filter((s) => s.api === a.url && s.at >= termAt);
    console.log(`\napi-sigterm: SIGTERM to one of two APIs under load; 8 clients`);
    printPhase("before", load.samples, t0, termAt);
    printPhase("drain + after", load.samples, termAt, end);
    const answered = inFlight.filter((s) => s.status > 0).length;
    console.log(
      `in flight at SIGTERM: ${inFlight.length}, answered ${answered} (${inFlight
        .map((s) => s.status)
        .join(",")}); sent to the draining API after the signal: ${afterTerm.length} ` +
        `(answered ${afterTerm.filter((s) => s.status > 0).length}, refused ${afterTerm.filter((s) => s.status === 0).length}, retried on the other API by a balancer); ` +
        `drained and exited ${((exitAt - termAt) / 1000).toFixed(2)} s after SIGTERM (exit code ${await a.exited})`,
    );
    await printLosses(stack, load.accepted);
    printLogSummary(stack);
  } finally {
    await stack.stop();
    await redis.stop();
  }
}
