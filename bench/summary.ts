/**
 * The hot-path targets (issue #17) in one table at the end of `bun run bench`, each figure beside its target,
 * from the figures the scenarios of the same run returned (their references were measured in that run too).
 */
import { fmt } from "./lib.ts";

type Figures = Record<string, Record<string, number> | undefined>;
type Row = {
  path: string;
  value: number | undefined;
  target: number;
  unit: "%" | "x" | "ms" | "MB";
  atLeast?: boolean;
};

export function hotPathRows(f: Figures): Row[] {
  const s = f.species;
  const id = f.identify;
  const out = f.outage;
  return [
    {
      path: "cached GET /v1/species/{id}, share of bare Bun",
      value: pct(s?.cachedVsHttpCeiling),
      target: 35,
      unit: "%",
      atLeast: true,
    },
    {
      path: "uncached (database) read, share of Bun + postgres.js",
      value: pct(s?.uncachedVsDbCeiling),
      target: 70,
      unit: "%",
      atLeast: true,
    },
    {
      path: "paced 2,000 req/s p99, cached vs bare Bun",
      value: s?.cachedPacedP99VsHttp,
      target: 1.5,
      unit: "x",
    },
    {
      path: "paced 2,000 req/s p99, uncached vs Bun + postgres.js",
      value: s?.uncachedPacedP99VsDb,
      target: 1.5,
      unit: "x",
    },
    {
      path: "identification, provider cache hit, 1 MB JPEG, p95",
      value: id?.hitP95Ms,
      target: 50,
      unit: "ms",
    },
    {
      path: "identification, cache miss (simulator 300 ms), p95",
      value: id?.missP95Ms,
      target: 450,
      unit: "ms",
    },
    {
      path: "one provider's breaker open (other at 50 ms), p99",
      value: out?.openP99Ms,
      target: 70,
      unit: "ms",
    },
    {
      path: "cold start to first answer (production API), median",
      value: s?.coldStartMs,
      target: 200,
      unit: "ms",
    },
    { path: "API RSS under load, peak", value: s?.apiPeakRssMb, target: 150, unit: "MB" },
  ];
}

function pct(ratio: number | undefined) {
  return ratio === undefined ? undefined : ratio * 100;
}

export function printHotPathSummary(f: Figures): void {
  const rows = hotPathRows(f).filter((r) => r.value !== undefined);
  if (rows.length === 0) return;
  console.log("\n=== hot paths (issue #17): this run's figures beside their targets ===");
  for (const r of rows) {
    const value = r.value as number;
    const met = r.atLeast ? value >= r.target : r.unit === "x" ? value <= r.target : value < r.target;
    const shown = `${fmt(value, r.unit === "x" ? 2 : r.unit === "%" ? 1 : 0)}${r.unit === "x" ? "x" : ` ${r.unit}`}`;
    const target = `${r.atLeast ? ">=" : r.unit === "x" ? "<=" : "<"} ${r.target}${r.unit === "x" ? "x" : ` ${r.unit}`}`;
    console.log(
      `${r.path.padEnd(56)} ${shown.padStart(10)}   target ${target.padEnd(10)} ${met ? "met" : "NOT met"}`,
    );
  }
}
