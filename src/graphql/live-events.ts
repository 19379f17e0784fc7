import type { Redis } from "ioredis";
import type { Config } from "../config/index.ts";
import type { Logger } from "../infra/logger.ts";
import { closeRedis, createRedis } from "../infra/redis.ts";

/**
 * What the GraphQL subscriptions follow, published on Redis pub/sub so that a change made by any process (a
 * worker, another API instance) reaches a subscriber connected to any API instance. Events carry ids only: the
 * subscriber reads the current row itself, with its own caller's rights.
 */
export type LiveEvent =
  | { kind: "identification"; userId: string; identificationId: string }
  | { kind: "notification"; userId: string; dedupeKey: string };

export function identificationChannel(keyPrefix: string, identificationId: string): string {
  return `${keyPrefix}live:identification:${identificationId}`;
}

export function notificationsChannel(keyPrefix: string, userId: string): string {
  return `${keyPrefix}live:notifications:${userId}`;
}

function channelOf(keyPrefix: string, event: LiveEvent): string {
  return event.kind === "identification"
    ? identificationChannel(keyPrefix, event.identificationId)
    : notificationsChannel(keyPrefix, event.userId);
}

/**
 * Publishes after the change is committed. Never throws: a live update is a convenience (clients can still read
 * the resource), so a Redis outage must not fail the job or request that made the change.
 */
export async function publishLiveEvent(
  deps: { redis: { cache: Redis }; config: Pick<Config, "redis">; logger: Logger },
  event: LiveEvent,
): Promise<void> {
  try {
    await deps.redis.cache.publish(channelOf(deps.config.redis.keyPrefix, event), JSON.stringify(event));
  } catch (err) {
    deps.logger.warn({ err: String(err), event }, "live event not published");
  }
}

export type LiveEventHub = {
  /**
   * Calls `handler` for each event on `channel` from the moment the returned promise resolves (Redis has
   * acknowledged the SUBSCRIBE) until the returned function is called.
   */
  subscribe(channel: string, handler: (event: LiveEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

/**
 * One subscriber connection per process, opened at the first subscription (an instance nobody subscribes to
 * holds none); channels are reference-counted, so a thousand subscribers of one user share one SUBSCRIBE.
 */
export function createLiveEventHub(config: Config["redis"], logger: Logger): LiveEventHub {
  let subscriber: Redis | undefined;
  const listeners = new Map<string, Set<(event: LiveEvent) => void>>();

  function connection(): Redis {
    if (subscriber) return subscriber;
    const client = createRedis(config, "subscriber");
    client.on("error", (err) => logger.warn({ err: err.message }, "redis live-events connection error"));
    client.on("message", (channel: string, message: string) => {
      const set = listeners.get(channel);
      if (!set) return;
      let event: LiveEvent;
      try {
        event = JSON.parse(message) as LiveEvent;
      } catch {
        return;
      }
      for (const handler of set) handler(event);
    });
    subscriber = client;
    return client;
  }

  return {
    async subscribe(channel, handler) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(handler);
      // Every caller waits for the acknowledgement (SUBSCRIBE of a channel already subscribed is harmless).
      await connection().subscribe(channel);
      return async () => {
        const current = listeners.get(channel);
        current?.delete(handler);
        if (current && current.size === 0) {
          listeners.delete(channel);
          await subscriber?.unsubscribe(channel).catch(() => {});
        }
      };
    },
    async close() {
      listeners.clear();
      if (subscriber) await closeRedis(subscriber);
    },
  };
}
