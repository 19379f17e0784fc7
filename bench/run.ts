/** `bun run bench`: every scenario in turn, each printing its own figures. `bun run bench species` runs one. */
import { existsSync } from "node:fs";
import { printHotPathSummary } from "./summary.ts";

const only = process.argv[2];
const scenarios: [string, string, string][] = [
  ["species", "./species.ts", "runSpeciesBench"],
  ["login", "./login.ts", "runLoginBench"],
  ["identify", "./identify.ts", "runIdentifyBench"],
  ["outage", "./outage.ts", "runOutageBench"],
  ["queues", "./queues.ts", "runQueueBench"],
  ["fleet", "./fleet.ts", "runFleetBench"],
  ["password", "./password.ts", "runPasswordBench"],
  ["tracing", "./tracing.ts", "runTracingBench"],
  ["graphql", "./graphql.ts", "runGraphqlBench"],
];
let failed = false;
const figures: Record<string, Record<string, number> | undefined> = {};
for (const [name, file, fn] of scenarios) {
  if (only && only !== name) continue;
  if (!existsSync(new URL(file, import.meta.url))) continue;
  console.log(`\n=== ${name} ===`);
  try {
    const mod = await import(file);
    const result = await mod[fn]();
    if (result && typeof result === "object") figures[name] = result as Record<string, number>;
  } catch (err) {
    failed = true;
    console.error(`${name} failed: ${(err as Error).stack ?? err}`);
  }
}
printHotPathSummary(figures);
process.exit(failed ? 1 : 0);
