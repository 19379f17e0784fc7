/** Time source injected wherever behaviour depends on time, so tests drive time instead of sleeping. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque: whatever the clock returned from setTimeout. */
export type TimerHandle = unknown;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  readonly dueAt: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Test clock: time moves only when `advance` is called; due timers fire in due-time order. */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<object, FakeTimer>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { dueAt: this.current + Math.max(0, ms), seq: this.seq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as object);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing every timer that falls due (including ones scheduled by fired timers). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].dueAt);
      next[1].fn();
    }
    this.current = target;
  }

  /**
   * Like `advance`, but lets promise callbacks run after each timer, as a real event loop would.
   * Without this, a promise resolved by one timer is only observed after all later timers have fired.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.current + ms;
    await drainMicrotasks();
    for (let next = this.nextDue(target); next; next = this.nextDue(target)) {
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].dueAt);
      next[1].fn();
      await drainMicrotasks();
    }
    this.current = target;
  }

  private nextDue(target: number): [object, FakeTimer] | undefined {
    let best: [object, FakeTimer] | undefined;
    for (const entry of this.timers) {
      const timer = entry[1];
      if (timer.dueAt > target) continue;
      if (
        !best ||
        timer.dueAt < best[1].dueAt ||
        (timer.dueAt === best[1].dueAt && timer.seq < best[1].seq)
      ) {
        best = entry;
      }
    }
    return best;
  }
}

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
