import { Redis, type RedisOptions } from "ioredis";
import type { Config } from "../config.ts";

export type RedisRole = "cache" | "queue" | "subscriber";

/** One client per role: a subscriber cannot run commands, and queue traffic must not delay cache reads. */
export function createRedis(config: Config["redis"], role: RedisRole): Redis {
  const common: RedisOptions = {
    connectionName: `plant-community:${role}`,
    enableAutoPipelining: role === "cache",
    // Queue and subscriber clients block or wait by design; only cache commands get a hard deadline.
    commandTimeout: role === "cache" ? config.commandTimeoutMs : undefined,
    maxRetriesPerRequest: role === "queue" ? null : 1,
    // Commands issued while (re)connecting wait in the queue; the cache's commandTimeout still bounds them.
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: false,
  };
  if (config.sentinels?.length) {
    return new Redis({
      ...common,
      sentinels: config.sentinels.map((hostPort) => {
        const [host = "127.0.0.1", port = "26379"] = hostPort.split(":");
        return { host, port: Number(port) };
      }),
      name: config.sentinelName,
    });
  }
  return new Redis(config.url, common);
}

export async function closeRedis(client: Redis): Promise<void> {
  try {
    await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1_000).unref())]);
  } catch {
    // already closed
  }
  client.disconnect();
}
