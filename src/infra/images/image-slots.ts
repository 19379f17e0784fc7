import { availableParallelism } from "node:os";

/**
 * At most one image job per core we may run on. Without a bound, a burst of uploads puts every libuv thread on
 * sharp and starves the event loop: timers fire late, Redis commands time out, the single flight degrades.
 * Waiting jobs queue here, in order, holding no thread.
 */
const LIMIT = Math.max(1, availableParallelism());
let active = 0;
const waiting: (() => void)[] = [];

export async function withImageSlot<T>(job: () => Promise<T>): Promise<T> {
  if (active < LIMIT) active += 1;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await job();
  } finally {
    // Hand the slot straight to the next job, so a newcomer cannot slip in between.
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  }
}
