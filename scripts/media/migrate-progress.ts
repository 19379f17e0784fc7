/** Where the migration stands; sent after every object. */
export type Progress = {
  objects: number;
  totalObjects: number;
  bytes: number;
  totalBytes: number;
  copied: number;
  skipped: number;
  failed: number;
  elapsedMs: number;
};

export function rateAndEta(p: Progress): { bytesPerSecond: number; etaSeconds: number | null } {
  const seconds = p.elapsedMs / 1000;
  const bytesPerSecond = seconds > 0 ? p.bytes / seconds : 0;
  const remaining = p.totalBytes - p.bytes;
  const etaSeconds = remaining <= 0 ? 0 : bytesPerSecond > 0 ? Math.ceil(remaining / bytesPerSecond) : null;
  return { bytesPerSecond, etaSeconds };
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return "--:--";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** One line of the terminal progress bar: objects, bytes, rate and ETA. */
export function progressBar(p: Progress, width = 30): string {
  const fraction =
    p.totalBytes > 0 ? p.bytes / p.totalBytes : p.totalObjects > 0 ? p.objects / p.totalObjects : 1;
  const filled = Math.round(Math.min(1, fraction) * width);
  const { bytesPerSecond, etaSeconds } = rateAndEta(p);
  return (
    `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${Math.floor(fraction * 100)}% ` +
    `${p.objects}/${p.totalObjects} objects ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)} ` +
    `${formatBytes(bytesPerSecond)}/s ETA ${formatDuration(etaSeconds)}` +
    (p.failed > 0 ? ` (${p.failed} failed)` : "")
  );
}

/** One JSON progress line, for logs and scripts (stdout is not a terminal). */
export function progressLine(p: Progress): string {
  const { bytesPerSecond, etaSeconds } = rateAndEta(p);
  return JSON.stringify({
    type: "progress",
    ...p,
    bytesPerSecond: Math.round(bytesPerSecond),
    etaSeconds,
  });
}

/**
 * A terminal gets a redrawn bar (10 per second at most), anything else a JSON line per second; the first update
 * is shown at once. (It used to wait until the process was a second old, measured from its start: a quick start
 * then printed nothing before the first interval, and a run killed early left no progress at all.)
 */
export function progressReporter(
  out: { isTTY?: boolean; write(s: string): unknown },
  clock: () => number = () => performance.now(),
) {
  const interval = out.isTTY ? 100 : 1_000;
  let last = Number.NEGATIVE_INFINITY;
  return {
    update(p: Progress, force = false) {
      const now = clock();
      if (!force && now - last < interval) return;
      last = now;
      if (out.isTTY) out.write(`\r\x1b[2K${progressBar(p)}`);
      else out.write(`${progressLine(p)}\n`);
    },
    finish(p: Progress) {
      this.update(p, true);
      if (out.isTTY) out.write("\n");
    },
  };
}
