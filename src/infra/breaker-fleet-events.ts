/** The fleet breaker's Redis plumbing outside its scripts: transition news over pub/sub, and a hard deadline. */
import type { Redis } from "ioredis";
import type { BreakerState } from "./breaker.ts";
import type { FleetState } from "./breaker-fleet-scripts.ts";

export type TransitionEvent = Omit<FleetState, "state" | "consecutive" | "calls" | "failures"> & {
  to: BreakerState;
  origin: string;
  reason: string;
};

/**
 * Calls `onEvent` for each transition published on `channel`. `stop` works at once, even before `subscribed`.
 * Decisions never wait on pub/sub, so a failed subscribe only delays other instances' news.
 */
export function followTransitions(
  subscriber: Redis,
  channel: string,
  onEvent: (event: TransitionEvent) => void,
): { subscribed: Promise<void>; stop: () => Promise<void> } {
  const onMessage = (from: string, message: string) => {
    if (from !== channel) return;
    let event: TransitionEvent;
    try {
      event = JSON.parse(message);
    } catch {
      return;
    }
    onEvent(event);
  };
  subscriber.on("message", onMessage);
  return {
    subscribed: subscriber.subscribe(channel).then(
      () => {},
      () => {},
    ),
    async stop() {
      subscriber.off("message", onMessage);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}

export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  // A real timer on purpose: this bounds real I/O, which a fake clock in tests must not be able to stall.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
