/**
 * Cold start to the first answered request (issue #17, < 200 ms for the API): from spawning the process to the
 * first 200 on `path`, polled every 2 ms. Run a few times; the median is printed beside the fastest.
 *
 * Beside the wall time, the CPU the process used until that answer (all its threads, and its main thread
 * alone: JSC compiles and collects on threads of its own): on a shared machine the wall time grows with the
 * load, the CPU much less, so the CPU is the figure to compare changes with.
 */
import { readdirSync, readFileSync } from "node:fs";
import { freePort } from "../tests/helpers/servers/free-port.ts";
import { BUN, pct, ROOT } from "./lib.ts";
import { processCpuTicksMs } from "./proc-stats.ts";

export type ColdStart = { wallMs: number; cpuMs: number; mainThreadCpuMs: number };

/** CPU time of a thread in ms (/proc/<pid>/task/<tid>/schedstat: ns on the CPU, first field). */
function threadCpuMs(pid: number, tid: string | number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return 0; // the thread ended in between
  }
}

/** CPU of the process so far: its live threads (ns), or utime+stime (10 ms ticks, ended threads too). */
function processCpuMs(pid: number): { cpuMs: number; mainThreadCpuMs: number } {
  const ticksMs = processCpuTicksMs(pid);
  const threadsMs = readdirSync(`/proc/${pid}/task`).reduce((sum, tid) => sum + threadCpuMs(pid, tid), 0);
  return { cpuMs: Math.max(ticksMs, threadsMs), mainThreadCpuMs: threadCpuMs(pid, pid) };
}

export async function coldStartMs(
  script: string,
  opts: { core: number; env: Record<string, string>; path: string },
): Promise<ColdStart> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${opts.path}`;
  const started = performance.now();
  const proc = Bun.spawn(["taskset", "-c", String(opts.core), BUN, script], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, PORT: String(port) },
    // Kept for the error below (a start that exits says why): a few lines until the first answer.
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const deadline = started + 30_000;
    let lastAnswer = "no answer";
    for (;;) {
      if (proc.exitCode !== null) {
        const output = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
        const said = output.trim().split("\n").slice(-5).join("\n");
        throw new Error(`${script} exited with ${proc.exitCode}${said ? `:\n${said}` : ""}`);
      }
      try {
        const res = await fetch(url);
        const body = await res.text();
        if (res.ok) return { wallMs: performance.now() - started, ...processCpuMs(proc.pid) };
        lastAnswer = `${res.status} ${body.slice(0, 200)}`;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline)
        throw new Error(`${script} gave no 2xx on ${opts.path} within 30 s (last: ${lastAnswer})`);
      await Bun.sleep(2);
    }
  } finally {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(5_000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
  }
}

const median = (values: number[]) =>
  pct(
    values.toSorted((a, b) => a - b),
    50,
  );

/** `runs` cold starts in a row: the median and fastest wall time, the median CPU times. */
export async function coldStarts(
  script: string,
  opts: { core: number; env: Record<string, string>; path: string; runs?: number },
): Promise<{ medianMs: number; minMs: number; cpuMs: number; mainThreadCpuMs: number }> {
  const runs: ColdStart[] = [];
  for (let i = 0; i < (opts.runs ?? 5); i++) runs.push(await coldStartMs(script, opts));
  return {
    medianMs: median(runs.map((r) => r.wallMs)),
    minMs: Math.min(...runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    mainThreadCpuMs: median(runs.map((r) => r.mainThreadCpuMs)),
  };
}
