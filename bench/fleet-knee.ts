/**
 * `bun run bench fleet --knee`: finds the knee of the local fleet, the highest offered rate of the bench's mix
 * at which every class but new identifications answers at p95 < 200 ms and fewer than 0.1 % of requests fail.
 * Steps the rate up by doubling until a step misses, then bisects between the last rate that met the targets
 * and the first that did not, within a time budget (default 5 min with the fleet's start). Each step prints
 * its figures and every process's CPU and peak RSS, so the step where a process saturates shows.
 *
 * A step's requests are aborted after REQUEST_TIMEOUT_MS (counted as errors), so a step past the knee cannot
 * run on for minutes; the fleet gets a short pause between steps to finish what the last step left.
 */
import type { Fleet } from "../scripts/fleet/fleet.ts";
import { ProviderStatusListSchema } from "../src/modules/providers/providers.schemas.ts";
import { uploadForm } from "../tests/helpers/identify.ts";
import { freshPhotos, type LoadResult, MIX, runLoad, verdict, type Workload } from "./fleet-load.ts";

const START_RATE = 50;
const MAX_RATE = 3_200;
const MIN_RATE = 10;
const REQUEST_TIMEOUT_MS = 5_000;
const PAUSE_MS = 3_000;
/** Photos, the answers after the last request, the pause: what a step costs beyond its seconds (measured ~6 s). */
const STEP_OVERHEAD_S = REQUEST_TIMEOUT_MS / 1000 + PAUSE_MS / 1000 + 3;

export type KneeOptions = { stepSeconds: number; budgetSeconds: number };

/**
 * The breakers' cool-down while the knee is searched (bench/fleet.ts sets it; production's is 60 s): a step past
 * the knee makes provider calls miss their deadlines and opens the breakers fleet-wide, and each step must start
 * from closed breakers (`breakersClosed`) without waiting a minute for it.
 */
export const KNEE_BREAKER_COOL_DOWN_MS = 5_000;
const RECOVERY_DEADLINE_MS = KNEE_BREAKER_COOL_DOWN_MS + 30_000;

/**
 * Waits until /v1/providers shows every breaker closed, sending one identification of a new photo at a time as
 * the probe that closes a half-open breaker. Without it the steps after a failed one measured the breakers'
 * cool-down, not their own rate: 150, 130, 120 req/s answered every identification 503 with the machine a third
 * busy, and the knee came out at 100.
 */
async function breakersClosed(
  fleet: Fleet,
  workload: Workload,
): Promise<{ waitedMs: number; probes: number }> {
  const started = performance.now();
  let probes = 0;
  let photos: Uint8Array[] = [];
  for (;;) {
    const res = await fetch(`${fleet.url}/v1/providers`);
    const { data } = ProviderStatusListSchema.parse(await res.json());
    if (data.every((p) => p.state === "closed")) return { waitedMs: performance.now() - started, probes };
    if (performance.now() - started > RECOVERY_DEADLINE_MS)
      throw new Error(`breakers still not closed after ${RECOVERY_DEADLINE_MS} ms: ${JSON.stringify(data)}`);
    if (photos.length === 0) photos = await freshPhotos(1, 1);
    probes += 1;
    const probe = await fetch(`${fleet.url}/v1/identifications`, {
      method: "POST",
      headers: workload.users[probes % workload.users.length],
      body: uploadForm([photos.pop() as Uint8Array]),
    });
    await probe.arrayBuffer();
    // An open breaker answers at once: pace the probes rather than spin through the cool-down.
    if (probe.status === 503) await Bun.sleep(250);
  }
}
type Step = { rate: number; result: LoadResult; met: boolean };

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : "-").padStart(7);

function printStep(step: Step): void {
  const r = step.result;
  const v = verdict(r);
  const answered = MIX.reduce((n, [k]) => n + r.latencies[k].length, 0);
  console.log(
    `${String(r.rate).padStart(6)} ${`${((100 * answered) / r.scheduled).toFixed(1)} %`.padStart(9)} ${MIX.map(([k]) => fmt(v.p95[k])).join(" ")} ${v.errorPercent.toFixed(3).padStart(8)}   ${step.met ? "met" : "NOT met"}${v.newIdentifyMet ? "" : " (new identifications p95 >= 3 s)"}`,
  );
  const procs = Object.entries(r.processes)
    .map(([name, u]) => `${name} ${u.cpuPercent.toFixed(0)}% ${u.peakRssMb.toFixed(0)} MB`)
    .join(", ");
  const machineCpu =
    (Object.values(r.processes).reduce((n, u) => n + u.cpuPercent, 0) + r.loadGenerator.cpuPercent) /
    navigator.hardwareConcurrency;
  console.log(
    `         CPU (of one core) and peak RSS: ${procs}, load generator ${r.loadGenerator.cpuPercent.toFixed(0)}% ${r.loadGenerator.rssMb.toFixed(0)} MB; all together ${machineCpu.toFixed(0)} % of the machine`,
  );
  const samples = [...r.errorSamples].sort((a, b) => b[1] - a[1]).slice(0, 3);
  if (samples.length) console.log(`         errors: ${samples.map(([k, n]) => `${k} x${n}`).join(", ")}`);
}

/** The next rate to try, or undefined when the knee is found to within 10 % (or the range is exhausted). */
export function nextRate(pass: number | undefined, fail: number | undefined): number | undefined {
  if (fail === undefined) {
    if (pass !== undefined && pass >= MAX_RATE) return undefined;
    return Math.min(MAX_RATE, pass === undefined ? START_RATE : pass * 2);
  }
  if (pass === undefined) return fail <= MIN_RATE ? undefined : Math.max(MIN_RATE, Math.round(fail / 2));
  if (fail - pass <= Math.max(MIN_RATE, pass * 0.1)) return undefined;
  const mid = Math.round((pass + fail) / 2 / 10) * 10; // round figures read better in the table
  return mid > pass && mid < fail ? mid : Math.round((pass + fail) / 2);
}

export async function findKnee(
  fleet: Fleet,
  workload: Workload,
  opts: KneeOptions,
): Promise<number | undefined> {
  const started = performance.now();
  const deadline = started + opts.budgetSeconds * 1000;
  console.log(
    `\nknee search: ${opts.stepSeconds} s per step, ${Math.round(opts.budgetSeconds)} s left in the budget; targets: p95 < 200 ms for ${MIX.filter(
      ([k]) => k !== "new_identify",
    )
      .map(([k]) => k)
      .join(
        ", ",
      )}; errors < 0.1 %; breakers' cool-down ${KNEE_BREAKER_COOL_DOWN_MS / 1000} s, every step starts with them closed`,
  );
  console.log(
    `${"rate/s".padStart(6)} ${"answered".padStart(9)} ${MIX.map(([k]) => k.slice(0, 7).padStart(7)).join(" ")} ${"err %".padStart(8)}   (p95 ms per class)`,
  );
  const steps: Step[] = [];
  let pass: number | undefined;
  let fail: number | undefined;
  let rate = nextRate(undefined, undefined);
  let stopped = "the knee is bracketed to within 10 %";
  while (rate !== undefined) {
    if ((deadline - performance.now()) / 1000 < opts.stepSeconds + STEP_OVERHEAD_S) {
      stopped = "the time budget ran out";
      break;
    }
    const recovery = await breakersClosed(fleet, workload);
    if (recovery.probes > 0)
      console.log(
        `         (breakers closed again after ${(recovery.waitedMs / 1000).toFixed(1)} s, ${recovery.probes} probe identifications)`,
      );
    const fresh = await freshPhotos(opts.stepSeconds, rate);
    const result = await runLoad(fleet, workload, {
      seconds: opts.stepSeconds,
      rate,
      fresh,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const step = { rate, result, met: verdict(result).met };
    steps.push(step);
    printStep(step);
    if (step.met) pass = Math.max(pass ?? 0, rate);
    else fail = Math.min(fail ?? Number.POSITIVE_INFINITY, rate);
    rate = nextRate(pass, fail);
    if (rate === undefined && fail === undefined) stopped = `every rate up to ${MAX_RATE}/s met the targets`;
    if (rate === undefined && pass === undefined) stopped = `no rate down to ${MIN_RATE}/s met the targets`;
    await Bun.sleep(PAUSE_MS); // a cool-down between steps, not synchronisation
  }
  const took = `${steps.length} steps in ${((performance.now() - started) / 1000).toFixed(0)} s`;
  console.log(
    pass === undefined
      ? `\nknee: not found (${stopped}; ${took})${steps.length > 0 ? "; the lowest rate tried missed the targets" : ""}`
      : `\nknee: ${pass} req/s met the targets${fail !== undefined ? `, ${fail} req/s did not` : ""} (${stopped}; ${took})`,
  );
  return pass;
}
