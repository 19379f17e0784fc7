/**
 * Rolling count of calls and failures over the last `windowMs`, kept in fixed time buckets so memory stays
 * constant however many calls arrive. The window slides one bucket at a time, so it covers between
 * `windowMs - bucketMs` and `windowMs` of history. The Redis scripts in breaker-fleet.ts use the same bucketing.
 */
export class RollingWindow {
  private readonly bucketMs: number;
  private readonly epochs: number[];
  private readonly calls: number[];
  private readonly failures: number[];

  constructor(
    windowMs: number,
    private readonly bucketCount: number,
  ) {
    this.bucketMs = bucketSizeMs(windowMs, bucketCount);
    this.epochs = new Array<number>(bucketCount).fill(Number.NEGATIVE_INFINITY);
    this.calls = new Array<number>(bucketCount).fill(0);
    this.failures = new Array<number>(bucketCount).fill(0);
  }

  record(now: number, failed: boolean): void {
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % this.bucketCount;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.calls[slot] = 0;
      this.failures[slot] = 0;
    }
    this.calls[slot] = (this.calls[slot] ?? 0) + 1;
    if (failed) this.failures[slot] = (this.failures[slot] ?? 0) + 1;
  }

  totals(now: number): { calls: number; failures: number } {
    const oldestLiveEpoch = Math.floor(now / this.bucketMs) - this.bucketCount + 1;
    let calls = 0;
    let failures = 0;
    for (let slot = 0; slot < this.bucketCount; slot++) {
      if ((this.epochs[slot] ?? Number.NEGATIVE_INFINITY) < oldestLiveEpoch) continue;
      calls += this.calls[slot] ?? 0;
      failures += this.failures[slot] ?? 0;
    }
    return { calls, failures };
  }

  reset(): void {
    this.epochs.fill(Number.NEGATIVE_INFINITY);
  }
}

export function bucketSizeMs(windowMs: number, bucketCount: number): number {
  return Math.max(1, Math.ceil(windowMs / bucketCount));
}
