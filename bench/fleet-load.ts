/**
 * The fleet bench's traffic (issue #11): the roadmap's mix, driven open-loop at a given rate through haproxy.
 * Requests are scheduled at the rate whatever the answers, and each latency counts from its scheduled time (no
 * coordinated omission). Shared by the single run (fleet.ts) and the knee search (fleet-knee.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import sharp from "sharp";
import type { Fleet } from "../scripts/fleet/fleet.ts";
import { uploadForm } from "../tests/helpers/identify.ts";
import { pct } from "./lib.ts";
import { sampleUsage } from "./proc-stats.ts";

export type Klass = "catalogue" | "history" | "cached_identify" | "new_identify";
export const MIX: [Klass, number][] = [
  ["catalogue", 0.7],
  ["history", 0.15],
  ["cached_identify", 0.1],
  ["new_identify", 0.05],
];
export const TARGET_P95_MS: Record<Klass | "overall", number> = {
  catalogue: 200,
  history: 200,
  cached_identify: 200,
  new_identify: 3_000,
  overall: 200,
};
export const TARGET_ERROR_PERCENT = 0.1;
const MAX_IN_FLIGHT = 3_000;
const USERS = 40;
const CACHED_PHOTOS = 20;

/** The fleet's environment for load: one load generator stands for thousands of clients and users. */
export const BENCH_FLEET_ENV: Record<string, string> = {
  RATE_LIMIT_DEFAULT: "10000000/1m",
  RATE_LIMIT_IDENTIFY: "10000000/1h",
  RATE_LIMIT_REGISTER: "10000/1h",
  // Bench users do not confirm their address (the verification flow has its own tests).
  UNVERIFIED_IDENTIFICATION_ALLOWANCE: "10000000",
  // Load users identify far more than a person would: no per-user provider budget here.
  PROVIDER_BUDGET_USER_DAILY: "0",
  PROVIDER_BUDGET_PREMIUM_DAILY: "0",
  // Nor the accounts' own budgets (Plant.id 200/h, PlantNet 100/h by default): the simulator is free, and those
  // budgets, spent within the first minute, turned every new identification after that into a 503.
  PLANT_ID_HOURLY_QUOTA: "10000000",
  PLANT_ID_DAILY_QUOTA: "10000000",
  PLANTNET_HOURLY_QUOTA: "10000000",
  PLANTNET_DAILY_QUOTA: "10000000",
};

let ipSeq = 0;
const newIp = () => {
  ipSeq += 1;
  return `100.${64 + ((ipSeq >> 16) & 63)}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;
};

let photoSeq = 0;
/** A small, distinct phone-like JPEG (distinct bytes: a new provider cache key). */
async function photo(): Promise<Uint8Array> {
  photoSeq += 1;
  const n = (photoSeq * 2_654_435_761) >>> 0;
  const buf = await sharp({
    create: {
      width: 400,
      height: 300,
      channels: 3,
      background: { r: n & 127, g: 100 + ((n >> 8) & 127), b: (n >> 16) & 63 },
    },
  })
    .jpeg({ quality: 85 })
    .toBuffer();
  return new Uint8Array(buf);
}

/** New photos for a run of `seconds` at `rate` (made before the run, so their cost is not in its figures). */
export const freshPhotos = (seconds: number, rate: number) =>
  Promise.all(Array.from({ length: Math.ceil(seconds * rate * 0.05 * 1.2) + 10 }, () => photo()));

function childPidsMatching(word: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(word)) out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

/** Every process whose CPU and RSS a run reports: the fleet's and the S3 server. */
export const benchPids = (fleet: Fleet): Record<string, number> =>
  Object.fromEntries(
    Object.entries({ ...fleet.pids(), s3rver: childPidsMatching("s3rver")[0] ?? 0 }).filter(([, p]) => p > 0),
  );

export type Workload = Awaited<ReturnType<typeof prepareWorkload>>;

/** Users with sessions, photos whose provider answers are cached, and the catalogue's species. */
export async function prepareWorkload(fleet: Fleet) {
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const ip = newIp();
      const account = {
        email: `bench-${i}-${crypto.randomUUID()}@example.com`,
        password: `pw-${crypto.randomUUID()}`,
      };
      // Setup, not measurement: a sign-in refused for a moment (503/429 with Retry-After, e.g. Redis slow on a
      // busy machine) is tried again a few times instead of failing the whole bench.
      const post = async (path: string, body: object): Promise<Response> => {
        for (let attempt = 1; ; attempt++) {
          const res = await fetch(`${fleet.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", "fly-client-ip": ip },
            body: JSON.stringify(body),
          });
          if ((res.status !== 503 && res.status !== 429) || attempt === 5) return res;
          await res.arrayBuffer();
          await Bun.sleep(Math.min(5, Number(res.headers.get("retry-after")) || 1) * 1000);
        }
      };
      const reg = await post("/v1/auth/register", { ...account, displayName: "Bench" });
      if (reg.status !== 202) throw new Error(`register: ${reg.status} ${await reg.text()}`);
      const res = await post("/v1/auth/login", account);
      if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
      const { accessToken } = (await res.json()) as { accessToken: string };
      return { authorization: `Bearer ${accessToken}`, "fly-client-ip": ip };
    }),
  );
  // Photos whose provider answers are cached: identified once before the run.
  const cached = await Promise.all(Array.from({ length: CACHED_PHOTOS }, () => photo()));
  for (const [i, image] of cached.entries()) {
    const res = await fetch(`${fleet.url}/v1/identifications`, {
      method: "POST",
      headers: users[i % users.length],
      body: uploadForm([image]),
    });
    if (res.status !== 201) throw new Error(`warm-up identification: ${res.status} ${await res.text()}`);
  }
  const species = (await (
    await fetch(`${fleet.url}/v1/species?limit=100`, { headers: { "fly-client-ip": newIp() } })
  ).json()) as { data: { id: string; scientificName: string }[] };
  return { users, cached, species: species.data };
}

export type LoadResult = {
  rate: number;
  scheduled: number;
  wallSeconds: number;
  latencies: Record<Klass, number[]>;
  errors: Record<Klass, number>;
  errorSamples: Map<string, number>;
  dropped: number;
  timedOut: number;
  /** Per process: CPU % of one core over the run and peak RSS. */
  processes: Record<string, { cpuPercent: number; peakRssMb: number }>;
  loadGenerator: { cpuPercent: number; rssMb: number };
};

/**
 * Drives the mix at `rate` for `seconds`, then waits for the answers. A request still unanswered after
 * `timeoutMs` is aborted and counted as an error (it bounds a run past the fleet's capacity).
 */
export async function runLoad(
  fleet: Fleet,
  workload: Workload,
  opts: { seconds: number; rate: number; fresh: Uint8Array[]; timeoutMs?: number },
): Promise<LoadResult> {
  const { users, cached, species } = workload;
  const { seconds, rate, fresh } = opts;
  const latencies: Record<Klass, number[]> = {
    catalogue: [],
    history: [],
    cached_identify: [],
    new_identify: [],
  };
  const errors: Record<Klass, number> = { catalogue: 0, history: 0, cached_identify: 0, new_identify: 0 };
  const errorSamples = new Map<string, number>();
  let inFlight = 0;
  let dropped = 0;
  let timedOut = 0;
  let seq = 0;
  const pick = (): Klass => {
    const r = Math.random();
    let acc = 0;
    for (const [k, share] of MIX) {
      acc += share;
      if (r < acc) return k;
    }
    return "catalogue";
  };
  const request = (k: Klass): [string, RequestInit, number] => {
    seq += 1;
    const user = users[seq % users.length] as Record<string, string>;
    const sp = species[seq % species.length] as { id: string; scientificName: string };
    if (k === "catalogue") {
      const r = seq % 3;
      const path =
        r === 0
          ? "/v1/species?limit=20"
          : r === 1
            ? `/v1/species/${sp.id}`
            : `/v1/species?q=${encodeURIComponent(sp.scientificName.split(" ")[0] as string)}`;
      return [path, { headers: { "fly-client-ip": newIp() } }, 200];
    }
    if (k === "history") return [seq % 2 ? "/v1/identifications?limit=20" : "/v1/me", { headers: user }, 200];
    const image =
      k === "cached_identify"
        ? (cached[seq % cached.length] as Uint8Array)
        : (fresh.pop() ?? (cached[0] as Uint8Array));
    return ["/v1/identifications", { method: "POST", headers: user, body: uploadForm([image]) }, 201];
  };
  const fail = (k: Klass, key: string) => {
    errors[k] += 1;
    errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
  };

  const usage = sampleUsage(benchPids(fleet));
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  const total = Math.round(seconds * rate);
  let sent = 0;
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      // Request k is due at k / rate: at elapsed time e, requests 0..floor(e * rate) are (one more than the
      // floor; counting only the floor sent each request one interval late, 40 ms at 25/s, and that wait was
      // in its latency, which counts from the scheduled time).
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (sent < due) {
        const scheduled = t0 + (sent / rate) * 1000;
        sent += 1;
        const k = pick();
        if (inFlight >= MAX_IN_FLIGHT) {
          dropped += 1;
          errors[k] += 1;
          continue;
        }
        const [path, init, expected] = request(k);
        inFlight += 1;
        const signal = opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined;
        pending.push(
          fetch(`${fleet.url}${path}`, { ...init, signal })
            .then(async (res) => {
              await res.arrayBuffer();
              latencies[k].push(performance.now() - scheduled);
              if (res.status !== expected) fail(k, `${k} ${res.status}`);
            })
            .catch((err: Error) => {
              if (err.name === "TimeoutError") timedOut += 1;
              fail(k, `${k} ${err.name === "TimeoutError" ? "timed out" : err.message.slice(0, 60)}`);
            })
            .finally(() => {
              inFlight -= 1;
            }),
        );
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  await Promise.all(pending);
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return {
    rate,
    scheduled: total,
    wallSeconds,
    latencies,
    errors,
    errorSamples,
    dropped,
    timedOut,
    processes: usage.stop(),
    loadGenerator: {
      cpuPercent: (100 * (cpu.user + cpu.system)) / 1e6 / wallSeconds,
      rssMb: process.memoryUsage().rss / 1048576,
    },
  };
}

/** p95 per class, the error rate, and whether the targets (p95 < 200 ms but new identifications; errors) hold. */
export function verdict(r: LoadResult) {
  const p95 = Object.fromEntries(
    MIX.map(([k]) => [
      k,
      pct(
        r.latencies[k].toSorted((a, b) => a - b),
        95,
      ),
    ]),
  ) as Record<Klass, number>;
  const errorCount = MIX.reduce((n, [k]) => n + r.errors[k], 0);
  const errorPercent = (100 * errorCount) / Math.max(1, r.scheduled);
  // A class with no answer at all has no p95 (NaN): that is not a pass.
  const fastClassesMet = MIX.filter(([k]) => k !== "new_identify").every(([k]) => p95[k] < TARGET_P95_MS[k]);
  return {
    p95,
    errorPercent,
    fastClassesMet,
    newIdentifyMet: p95.new_identify < TARGET_P95_MS.new_identify,
    met: fastClassesMet && errorPercent < TARGET_ERROR_PERCENT,
  };
}
