/**
 * `bun run bench`: every scenario in turn, each printing its own figures. `bun run bench species` runs one,
 * `bun run bench species identify outage` those three (the hot-path table at the end needs these three).
 */
import { existsSync } from "node:fs";
import { printHotPathSummary } from "./summary.ts";

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
// Scenario names among the arguments; the rest are a scenario's own (`bun run bench fleet --knee 12 300`).
const requested = process.argv.slice(2).filter((a) => scenarios.some(([name]) => name === a));
let failed = false;
const figures: Record<string, Record<string, number> | undefined> = {};
for (const [name, file, fn] of scenarios) {
  if (requested.length > 0 && !requested.includes(name)) continue;
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
