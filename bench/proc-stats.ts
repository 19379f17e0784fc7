/** CPU seconds and resident memory of a process and its descendants, read from /proc (Linux). */
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; ticks: number; rssKb: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), rssKb };
  } catch {
    return undefined; // gone
  }
}

function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export type Usage = { cpuSeconds: number; rssMb: number };

export function usageOf(root: number): Usage {
  let ticks = 0;
  let rssKb = 0;
  for (const pid of tree(root)) {
    const s = stat(pid);
    if (!s) continue;
    ticks += s.ticks;
    rssKb += s.rssKb;
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: rssKb / 1024 };
}

/** Samples every named process tree until stopped: CPU used in the window and the peak RSS. */
export function sampleUsage(pids: Record<string, number>, everyMs = 1_000) {
  const start = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, usageOf(p)]));
  const peak: Record<string, number> = Object.fromEntries(
    Object.keys(pids).map((n) => [n, start[n]?.rssMb ?? 0]),
  );
  const timer = setInterval(() => {
    for (const [name, pid] of Object.entries(pids))
      peak[name] = Math.max(peak[name] ?? 0, usageOf(pid).rssMb);
  }, everyMs);
  const startedAt = performance.now();
  return {
    stop(): Record<string, { cpuPercent: number; peakRssMb: number }> {
      clearInterval(timer);
      const seconds = (performance.now() - startedAt) / 1000;
      return Object.fromEntries(
        Object.entries(pids).map(([name, pid]) => {
          const end = usageOf(pid);
          const cpu = end.cpuSeconds - (start[name]?.cpuSeconds ?? 0);
          return [
            name,
            { cpuPercent: (100 * cpu) / seconds, peakRssMb: Math.max(peak[name] ?? 0, end.rssMb) },
          ];
        }),
      );
    },
  };
}
