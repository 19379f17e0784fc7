/** Shared pieces of the benchmarks: processes pinned to cores, load generators, figure parsing. */
import { relative } from "node:path";
import { buildBundle } from "../scripts/build.ts";
import { freePort } from "../tests/helpers/servers/free-port.ts";

export const ROOT = new URL("..", import.meta.url).pathname;
export const BUN = process.execPath;

export function ensureTool(tool: string, debPackage = tool) {
  if (Bun.which(tool)) return;
  if (process.getuid?.() !== 0) throw new Error(`${tool} is missing: apt-get install -y ${debPackage}`);
  console.log(`installing ${debPackage} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const cmd of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", debPackage],
  ]) {
    const r = Bun.spawnSync(cmd, { env, stdout: "ignore", stderr: "inherit" });
    if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed`);
  }
}

let bundle: Promise<string> | undefined;
/**
 * What production runs (Dockerfile, fly.toml): the bundle built from the current sources, once per bench
 * run, as a path relative to ROOT for startPinned. `bun run bench` measures the processes operators run.
 */
export async function apiEntry(): Promise<string> {
  bundle ??= buildBundle(); // `bun dist/app/main.js` with no role is the API
  return relative(ROOT, await bundle);
}

export type Started = { url: string; port: number; pid: number; stop(): Promise<void> };

/** Starts a bun script on one core and waits until `readyPath` answers 200. */
export async function startPinned(
  script: string,
  opts: { core: number; env?: Record<string, string>; readyPath?: string; port?: number },
): Promise<Started> {
  const port = opts.port ?? (await freePort());
  const proc = Bun.spawn(["taskset", "-c", String(opts.core), BUN, script], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, PORT: String(port) },
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${script} exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}${opts.readyPath ?? "/"}`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${script} did not become ready`);
    await Bun.sleep(50);
  }
  return {
    url,
    port,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(5_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}

export type LoadResult = { rps: number; p50Ms: number; p99Ms: number; errors: number };

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

/** Closed-loop throughput with wrk on its own core. */
export function wrk(url: string, opts: { core: number; connections: number; seconds: number }): LoadResult {
  const r = Bun.spawnSync(
    [
      "taskset",
      "-c",
      String(opts.core),
      "wrk",
      "-t1",
      `-c${opts.connections}`,
      `-d${opts.seconds}s`,
      "--latency",
      url,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = r.stdout.toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const pct = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toMs(m[1]!, m[2]!) : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0);
  return { rps, p50Ms: pct("50"), p99Ms: pct("99"), errors };
}

/** Open-ish loop at a fixed total rate with hey (-q is per worker), on its own core. */
export function paced(
  url: string,
  opts: { core: number; rate: number; workers: number; seconds: number },
): LoadResult {
  const r = Bun.spawnSync(
    [
      "taskset",
      "-c",
      String(opts.core),
      "hey",
      "-z",
      `${opts.seconds}s`,
      "-c",
      String(opts.workers),
      "-q",
      String(opts.rate / opts.workers),
      url,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = r.stdout.toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const pct = (p: string) =>
    Number(new RegExp(`${p}% in ([\\d.]+) secs`).exec(out)?.[1] ?? Number.NaN) * 1000;
  const ok = Number(/\[200\]\s+(\d+) responses/.exec(out)?.[1] ?? 0);
  const total = Number(
    /Total:\s+[\d.]+ secs/.test(out)
      ? (out.match(/\[\d+\]\s+(\d+) responses/g) ?? []).reduce(
          (n, l) => n + Number(/(\d+) responses/.exec(l)![1]),
          0,
        )
      : 0,
  );
  return { rps, p50Ms: pct("50"), p99Ms: pct("99"), errors: total - ok };
}

/** The p-th percentile of `sorted` (ascending; nearest rank, rounded down): NaN when there is none. */
export function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
