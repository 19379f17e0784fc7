/**
 * Replica down: the read replica is stopped under read load, then started again. Clients should see every read
 * answered (from the primary meanwhile), and the API should go back to the replica by itself.
 *
 *   bun run drill replica-down [outage seconds, default 8]
 */
import { fmtMs, loop, Recorder, report, worst } from "./_pg-load.ts";
import { metricValue, startDrillStack } from "./_pg-stack.ts";

export default async function drill(args: string[]) {
  const outageMs = Number(args[0] ?? 8) * 1000;
  const stack = await startDrillStack();
  try {
    const api = stack.apiUrl;
    const users = await Promise.all(Array.from({ length: 8 }, () => stack.register()));
    await stack.pair.waitForCatchUp();
    const rec = new Recorder();
    const readers = loop(8, 10, (c) =>
      rec.time(c % 2 ? "GET /v1/me" : "GET /v1/species", (signal) =>
        fetch(c % 2 ? `${api}/v1/me` : `${api}/v1/species?limit=20`, {
          headers: { authorization: `Bearer ${users[c]!.token}` },
          signal,
        }),
      ),
    );
    const replicaQueries = () =>
      metricValue(stack.metricsUrl, "db_query_duration_seconds_count", 'target="replica"');

    await Bun.sleep(3_000);
    const stopAt = rec.now();
    await stack.pair.stopReplica();
    await Bun.sleep(outageMs);
    const startAt = rec.now();
    await stack.pair.startReplica();
    const restoredAt = rec.now();
    // Back in use: the API's replica query count moves again.
    const before = await replicaQueries();
    let backAt = Number.NaN;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if ((await replicaQueries()) > before) {
        backAt = rec.now();
        break;
      }
      await Bun.sleep(50);
    }
    await Bun.sleep(3_000);
    await readers.stop();
    const endAt = rec.now();

    report(rec, [
      { name: "before", from: 0, to: stopAt },
      { name: "replica down", from: stopAt, to: restoredAt },
      { name: "after the replica is back", from: restoredAt, to: endAt },
    ]);
    const during = worst(rec, stopAt, restoredAt);
    const failed = rec.samples.filter((s) => s.status !== 200).length;
    console.log(`
replica-down: replica stopped for ${((restoredAt - stopAt) / 1000).toFixed(1)} s
  during the outage: ${during.n} reads, p99 ${fmtMs(during.p99)}, max ${fmtMs(during.max)}
  reads not answered 200, whole run: ${failed} of ${rec.samples.length}
  replica back in use ${fmtMs(backAt - startAt)} after its restart was issued (the server itself needs ${fmtMs(restoredAt - startAt)})
  lost: nothing to lose (reads only)`);
    if (failed > 0) process.exitCode = 1;
    await stack.stop(process.exitCode === 1);
  } catch (err) {
    await stack.stop(true);
    throw err;
  }
}
