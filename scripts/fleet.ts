/**
 * `bun run fleet`: the local fleet (two API instances and the four lane workers behind haproxy, sharing a
 * PostgreSQL primary + replica, Redis, an S3 server and the provider simulator), in production configuration.
 * Prints where everything is and runs until Ctrl-C, then stops every process it started.
 */
import { startFleet } from "./fleet/fleet.ts";

const fleet = await startFleet({ log: (line) => console.log(`[fleet] ${line}`) });
console.log(
  `[fleet] clients: ${fleet.url}  (docs: ${fleet.url}/v1/docs, haproxy stats: ${fleet.haproxy.statsUrl})`,
);
for (const api of fleet.apis) console.log(`[fleet] ${api.name}: ${api.url}`);
console.log(`[fleet] pids: ${JSON.stringify(fleet.pids())}`);
console.log("[fleet] Ctrl-C stops the fleet");
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("[fleet] stopping");
    await fleet.stop();
    process.exit(0);
  });
}
