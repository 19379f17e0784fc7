/**
 * `bun run bench fleet [seconds] [rate]`: the roadmap's load target on the local fleet (scripts/fleet): 1,000
 * req/s for 60 s through haproxy, mixed as
 *   70 % catalogue reads and searches, 15 % a user's history and profile,
 *   10 % identifications answered from the provider cache, 5 % new identifications (simulator at 300 ms).
 * Open loop: requests are scheduled at the rate whatever the answers, and each latency counts from its scheduled
 * time (no coordinated omission). The load generator is this Bun process (fetch, keep-alive), sharing the
 * machine's cores with the fleet; it also hosts the provider simulator and the SMTP server. Prints p50/p95/p99 per
 * class and overall, the error rate, and CPU and peak RSS per process, beside the targets.
 */
import { readdirSync, readFileSync } from "node:fs";
import sharp from "sharp";
import { type Fleet, startFleet } from "../scripts/fleet/fleet.ts";
import { uploadForm } from "../tests/helpers/identify.ts";
import { sampleUsage } from "./proc-stats.ts";

type Klass = "catalogue" | "history" | "cached_identify" | "new_identify";
const MIX: [Klass, number][] = [
  ["catalogue", 0.7],
  ["history", 0.15],
  ["cached_identify", 0.1],
  ["new_identify", 0.05],
];
const TARGET_P95_MS: Record<Klass | "overall", number> = {
  catalogue: 200,
  history: 200,
  cached_identify: 200,
  new_identify: 3_000,
  overall: 200,
};
const MAX_IN_FLIGHT = 3_000;
const USERS = 40;
const CACHED_PHOTOS = 20;

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

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

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

async function prepare(fleet: Fleet) {
  const users = await Promise.all(
    Array.from({ length: USERS }, async (_, i) => {
      const ip = newIp();
      const account = {
        email: `bench-${i}-${crypto.randomUUID()}@example.com`,
        password: `pw-${crypto.randomUUID()}`,
      };
      const post = (path: string, body: object) =>
        fetch(`${fleet.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "fly-client-ip": ip },
          body: JSON.stringify(body),
        });
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
  ).json()) as {
    data: { id: string; scientificName: string }[];
  };
  return { users, cached, species: species.data };
}

export async function runFleetBench(): Promise<void> {
  const seconds = Number(process.argv[3] ?? 60);
  const rate = Number(process.argv[4] ?? 1_000);
  const fleet = await startFleet({
    env: {
      // One load generator stands for thousands of clients: lift the per-client and per-user budgets.
      RATE_LIMIT_DEFAULT: "10000000/1m",
      RATE_LIMIT_IDENTIFY: "10000000/1h",
      RATE_LIMIT_REGISTER: "10000/1h",
      // Bench users do not confirm their address (the verification flow has its own tests).
      UNVERIFIED_IDENTIFICATION_ALLOWANCE: "10000000",
      // Load users identify far more than a person would: no per-user provider budget here.
      PROVIDER_BUDGET_USER_DAILY: "0",
      PROVIDER_BUDGET_PREMIUM_DAILY: "0",
    },
    log: (l) => console.log(`[fleet] ${l}`),
  });
  try {
    fleet.sim.control.setLatency("plant-id", 300);
    fleet.sim.control.setLatency("plantnet", 300);
    const { users, cached, species } = await prepare(fleet);
    const fresh = await Promise.all(
      Array.from({ length: Math.ceil(seconds * rate * 0.05 * 1.2) + 10 }, () => photo()),
    );
    console.log(`prepared ${users.length} users, ${cached.length} cached photos, ${fresh.length} new photos`);

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
      if (k === "history")
        return [seq % 2 ? "/v1/identifications?limit=20" : "/v1/me", { headers: user }, 200];
      const image =
        k === "cached_identify"
          ? (cached[seq % cached.length] as Uint8Array)
          : (fresh.pop() ?? (cached[0] as Uint8Array));
      return ["/v1/identifications", { method: "POST", headers: user, body: uploadForm([image]) }, 201];
    };

    const pids = {
      ...fleet.pids(),
      s3rver: childPidsMatching("s3rver")[0] ?? 0,
    };
    const usage = sampleUsage(Object.fromEntries(Object.entries(pids).filter(([, p]) => p > 0)));
    const cpuStart = process.cpuUsage();
    const t0 = performance.now();
    const total = seconds * rate;
    let sent = 0;
    const pending: Promise<void>[] = [];
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
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
          pending.push(
            fetch(`${fleet.url}${path}`, init)
              .then(async (res) => {
                await res.arrayBuffer();
                latencies[k].push(performance.now() - scheduled);
                if (res.status !== expected) {
                  errors[k] += 1;
                  const key = `${k} ${res.status}`;
                  errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
                }
              })
              .catch((err: Error) => {
                errors[k] += 1;
                const key = `${k} ${err.message.slice(0, 60)}`;
                errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
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
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const procs = usage.stop();

    const line = (name: string, values: number[], errs: number, target: number) => {
      const s = values.toSorted((a, b) => a - b);
      const n = values.length;
      const p95 = pct(s, 95);
      return `${name.padEnd(16)} ${String(n).padStart(7)} ${pct(s, 50).toFixed(1).padStart(9)} ${p95.toFixed(1).padStart(9)} ${pct(s, 99).toFixed(1).padStart(9)} ${String(errs).padStart(7)}   p95 < ${target} ms: ${p95 < target ? "met" : "NOT met"}`;
    };
    console.log(
      `\nfleet bench: ${total} requests scheduled at ${rate}/s for ${seconds} s, finished in ${wall.toFixed(1)} s`,
    );
    console.log(
      `${"class".padEnd(16)} ${"answers".padStart(7)} ${"p50 ms".padStart(9)} ${"p95 ms".padStart(9)} ${"p99 ms".padStart(9)} ${"errors".padStart(7)}`,
    );
    const all: number[] = [];
    let allErrors = 0;
    for (const [k] of MIX) {
      console.log(line(k, latencies[k], errors[k], TARGET_P95_MS[k]));
      if (k !== "new_identify") all.push(...latencies[k]);
      allErrors += errors[k];
    }
    console.log(line("overall*", all, allErrors - errors.new_identify, TARGET_P95_MS.overall));
    console.log("(* overall: every class but new identifications, whose target is p95 < 3 s)");
    const errorRate = (100 * allErrors) / total;
    console.log(
      `error rate ${errorRate.toFixed(3)} % of ${total} (target < 0.1 %): ${errorRate < 0.1 ? "met" : "NOT met"}; dropped at the in-flight cap: ${dropped}`,
    );
    for (const [key, n] of errorSamples) console.log(`  error ${key}: ${n}`);
    console.log("\nprocess            CPU % (of one core)   peak RSS MB");
    for (const [name, u] of Object.entries(procs))
      console.log(
        `${name.padEnd(18)} ${u.cpuPercent.toFixed(0).padStart(8)} ${u.peakRssMb.toFixed(0).padStart(20)}`,
      );
    console.log(
      `${"load generator".padEnd(18)} ${((100 * (cpu.user + cpu.system)) / 1e6 / wall).toFixed(0).padStart(8)} ${(process.memoryUsage().rss / 1048576).toFixed(0).padStart(20)}   (this Bun process: fetch open loop + provider simulator + SMTP)`,
    );
    // What the fleet logged at warn/error during the run (by process and message): the causes behind 5xx.
    const logged = new Map<string, number>();
    for (const file of readdirSync(fleet.logDir)) {
      for (const line of readFileSync(`${fleet.logDir}/${file}`, "utf8").split("\n")) {
        if (!/"level":"(warn|error)"/.test(line)) continue;
        const entry = JSON.parse(line) as {
          message?: string;
          err?: { message?: string; code?: string } | string;
        };
        const cause =
          typeof entry.err === "string" ? entry.err : (entry.err?.code ?? entry.err?.message ?? "");
        const key = `${file.replace(/\.log$/, "")}: ${entry.message} ${String(cause).slice(0, 80)}`;
        logged.set(key, (logged.get(key) ?? 0) + 1);
      }
    }
    if (logged.size) console.log("\nwarnings and errors the fleet logged:");
    for (const [key, n] of [...logged].sort((a, b) => b[1] - a[1]).slice(0, 12))
      console.log(`  ${n} x ${key}`);
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    console.log(`machine: ${navigator.hardwareConcurrency} cores, load average ${load}`);
  } finally {
    await fleet.stop();
  }
}
