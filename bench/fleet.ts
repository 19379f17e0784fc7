/**
 * `bun run bench fleet [seconds] [rate]`: the roadmap's load target on the local fleet (scripts/fleet): 1,000
 * req/s for 60 s through haproxy, mixed as
 *   70 % catalogue reads and searches, 15 % a user's history and profile,
 *   10 % identifications answered from the provider cache, 5 % new identifications (simulator at 300 ms).
 * The load generator is this Bun process (fetch, keep-alive, open loop: fleet-load.ts), sharing the machine's
 * cores with the fleet; it also hosts the provider simulator and the SMTP server. Prints p50/p95/p99 per class
 * and overall, the error rate, and CPU and peak RSS per process, beside the targets.
 *
 * `bun run bench fleet --knee [step seconds] [budget seconds]`: the calibration instead (fleet-knee.ts): the
 * highest rate of the same mix at which the targets hold, found by stepping the rate.
 */
import { readdirSync, readFileSync } from "node:fs";
import { type Fleet, startFleet } from "../scripts/fleet/fleet.ts";
import { findKnee, KNEE_BREAKER_COOL_DOWN_MS } from "./fleet-knee.ts";
import {
  BENCH_FLEET_ENV,
  freshPhotos,
  type LoadResult,
  MIX,
  prepareWorkload,
  runLoad,
  TARGET_ERROR_PERCENT,
  TARGET_P95_MS,
} from "./fleet-load.ts";
import { pct } from "./lib.ts";

function printRun(r: LoadResult): void {
  const line = (name: string, values: number[], errs: number, target: number) => {
    const s = values.toSorted((a, b) => a - b);
    const p95 = pct(s, 95);
    return `${name.padEnd(16)} ${String(values.length).padStart(7)} ${pct(s, 50).toFixed(1).padStart(9)} ${p95.toFixed(1).padStart(9)} ${pct(s, 99).toFixed(1).padStart(9)} ${String(errs).padStart(7)}   p95 < ${target} ms: ${p95 < target ? "met" : "NOT met"}`;
  };
  console.log(
    `\nfleet bench: ${r.scheduled} requests scheduled at ${r.rate}/s, finished in ${r.wallSeconds.toFixed(1)} s`,
  );
  console.log(
    `${"class".padEnd(16)} ${"answers".padStart(7)} ${"p50 ms".padStart(9)} ${"p95 ms".padStart(9)} ${"p99 ms".padStart(9)} ${"errors".padStart(7)}`,
  );
  const all: number[] = [];
  let allErrors = 0;
  for (const [k] of MIX) {
    console.log(line(k, r.latencies[k], r.errors[k], TARGET_P95_MS[k]));
    if (k !== "new_identify") all.push(...r.latencies[k]);
    allErrors += r.errors[k];
  }
  console.log(line("overall*", all, allErrors - r.errors.new_identify, TARGET_P95_MS.overall));
  console.log("(* overall: every class but new identifications, whose target is p95 < 3 s)");
  const errorRate = (100 * allErrors) / r.scheduled;
  console.log(
    `error rate ${errorRate.toFixed(3)} % of ${r.scheduled} (target < ${TARGET_ERROR_PERCENT} %): ${errorRate < TARGET_ERROR_PERCENT ? "met" : "NOT met"}; dropped at the in-flight cap: ${r.dropped}`,
  );
  for (const [key, n] of r.errorSamples) console.log(`  error ${key}: ${n}`);
  console.log("\nprocess            CPU % (of one core)   peak RSS MB");
  for (const [name, u] of Object.entries(r.processes))
    console.log(
      `${name.padEnd(18)} ${u.cpuPercent.toFixed(0).padStart(8)} ${u.peakRssMb.toFixed(0).padStart(20)}`,
    );
  console.log(
    `${"load generator".padEnd(18)} ${r.loadGenerator.cpuPercent.toFixed(0).padStart(8)} ${r.loadGenerator.rssMb.toFixed(0).padStart(20)}   (this Bun process: fetch open loop + provider simulator + SMTP)`,
  );
}

/** What the fleet logged at warn/error (by process and message): the causes behind 5xx. */
function printFleetLog(fleet: Fleet): void {
  const logged = new Map<string, number>();
  for (const file of readdirSync(fleet.logDir)) {
    for (const line of readFileSync(`${fleet.logDir}/${file}`, "utf8").split("\n")) {
      if (!/"level":"(warn|error)"/.test(line)) continue;
      const entry = JSON.parse(line) as {
        message?: string;
        err?: { message?: string; code?: string } | string;
      };
      const cause = typeof entry.err === "string" ? entry.err : (entry.err?.code ?? entry.err?.message ?? "");
      const key = `${file.replace(/\.log$/, "")}: ${entry.message} ${String(cause).slice(0, 80)}`;
      logged.set(key, (logged.get(key) ?? 0) + 1);
    }
  }
  if (logged.size) console.log("\nwarnings and errors the fleet logged:");
  for (const [key, n] of [...logged].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${n} x ${key}`);
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`machine: ${navigator.hardwareConcurrency} cores, load average ${load}`);
}

export async function runFleetBench(): Promise<void> {
  const args = process.argv.slice(3);
  const knee = args.includes("--knee");
  const [first, second] = args.filter((a) => a !== "--knee").map(Number);
  const started = performance.now();
  // The knee search needs each step to start from closed breakers (fleet-knee.ts): a short cool-down there.
  const env = knee
    ? { ...BENCH_FLEET_ENV, BREAKER_COOL_DOWN_MS: String(KNEE_BREAKER_COOL_DOWN_MS) }
    : BENCH_FLEET_ENV;
  const fleet = await startFleet({ env, log: (l) => console.log(`[fleet] ${l}`) });
  try {
    fleet.sim.control.setLatency("plant-id", 300);
    fleet.sim.control.setLatency("plantnet", 300);
    const workload = await prepareWorkload(fleet);
    console.log(`prepared ${workload.users.length} users, ${workload.cached.length} cached photos`);
    if (knee) {
      // The budget covers everything: the fleet's start and preparation so far, and ~10 s to stop it.
      const spent = (performance.now() - started) / 1000;
      await findKnee(fleet, workload, {
        stepSeconds: first || 12,
        budgetSeconds: (second || 300) - spent - 10,
      });
    } else {
      const seconds = first || 60;
      const rate = second || 1_000;
      const fresh = await freshPhotos(seconds, rate);
      printRun(await runLoad(fleet, workload, { seconds, rate, fresh }));
    }
    printFleetLog(fleet);
  } finally {
    await fleet.stop();
  }
}
