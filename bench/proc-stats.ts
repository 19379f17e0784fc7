/** CPU seconds and resident memory of a process and its descendants, read from /proc (Linux). */
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** The page size in KB, from this process's own RSS read both ways (stat counts pages, status says KB). */
const PAGE_KB = (() => {
  const pages = Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[21]);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
  return pages > 0 && kb > 0 ? 2 ** Math.round(Math.log2(kb / pages)) : 4;
})();

type ProcStat = { ppid: number; ticks: number; rssKb: number };

function stat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    // RSS in pages (field 24 of stat) saves reading /proc/<pid>/status for VmRSS: same figure, one file less.
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      rssKb: Number(fields[21]) * PAGE_KB,
    };
  } catch {
    return undefined; // gone
  }
}

/** CPU of one process (all its threads, ended ones too), in ms: utime + stime, in 10 ms ticks. */
export function processCpuTicksMs(pid: number): number {
  return ((stat(pid)?.ticks ?? 0) * 1000) / TICKS_PER_SECOND;
}

/** Every process, read once: one scan of /proc serves every tree asked about in the same instant. */
function snapshot(): { stats: Map<number, ProcStat>; children: Map<number, number[]> } {
  const stats = new Map<number, ProcStat>();
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    stats.set(pid, s);
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  return { stats, children };
}

export type Usage = { cpuSeconds: number; rssMb: number };

function usageIn(snap: ReturnType<typeof snapshot>, root: number): Usage {
  let ticks = 0;
  let rssKb = 0;
  const walk = (pid: number) => {
    const s = snap.stats.get(pid);
    if (s) {
      ticks += s.ticks;
      rssKb += s.rssKb;
    }
    for (const c of snap.children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: rssKb / 1024 };
}

export function usageOf(root: number): Usage {
  return usageIn(snapshot(), root);
}

const usagesOf = (pids: Record<string, number>): Record<string, Usage> => {
  const snap = snapshot();
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, usageIn(snap, pid)]));
};

/**
 * Samples every named process tree until stopped: CPU used in the window and the peak RSS. One /proc scan per
 * sample for all the trees: a scan per tree (12 in the fleet bench) took ~60 ms of the load generator's event
 * loop every second, which delayed the requests due meanwhile and showed in their latency.
 */
export function sampleUsage(pids: Record<string, number>, everyMs = 1_000) {
  const start = usagesOf(pids);
  const peak: Record<string, number> = Object.fromEntries(
    Object.keys(pids).map((n) => [n, start[n]?.rssMb ?? 0]),
  );
  const timer = setInterval(() => {
    for (const [name, usage] of Object.entries(usagesOf(pids)))
      peak[name] = Math.max(peak[name] ?? 0, usage.rssMb);
  }, everyMs);
  const startedAt = performance.now();
  return {
    stop(): Record<string, { cpuPercent: number; peakRssMb: number }> {
      clearInterval(timer);
      const seconds = (performance.now() - startedAt) / 1000;
      const end = usagesOf(pids);
      return Object.fromEntries(
        Object.keys(pids).map((name) => {
          const cpu = (end[name]?.cpuSeconds ?? 0) - (start[name]?.cpuSeconds ?? 0);
          return [
            name,
            {
              cpuPercent: (100 * cpu) / seconds,
              peakRssMb: Math.max(peak[name] ?? 0, end[name]?.rssMb ?? 0),
            },
          ];
        }),
      );
    },
  };
}
