import type { Redis } from "ioredis";
import type { WalPosition } from "./wal-position.ts";

/** "The client wrote, at a position we could not learn": its reads stay on the primary until the marker expires. */
export const UNKNOWN_POSITION = "*";
export type WriteMarker = WalPosition | typeof UNKNOWN_POSITION;

/** Keeps the later of two markers (fixed-width hex compares as text; "*" outranks any position). */
const RECORD = `
local cur = redis.call("GET", KEYS[1])
local new = ARGV[1]
if cur and (cur == "*" or (new ~= "*" and cur > new)) then new = cur end
redis.call("SET", KEYS[1], new, "PX", ARGV[2])
return new
`;

function later(a: WriteMarker | undefined, b: WriteMarker): WriteMarker {
  if (a === undefined) return b;
  if (a === UNKNOWN_POSITION || b === UNKNOWN_POSITION) return UNKNOWN_POSITION;
  return a > b ? a : b;
}

/**
 * Each client's last write position, in Redis so every instance agrees. This instance also remembers its own
 * clients' writes for the same time: while Redis is unreachable that memory (the old time window) is the
 * fallback, and a client it knows nothing about reads from the primary.
 */
export class WritePositions {
  private readonly local = new Map<string, { marker: WriteMarker; expiresAt: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
    private readonly onRedisError: (err: unknown, op: "record" | "read") => void,
  ) {}

  private key(clientKey: string) {
    return `${this.keyPrefix}raw:${clientKey}`;
  }

  async record(clientKey: string, marker: WriteMarker): Promise<void> {
    this.remember(clientKey, marker);
    try {
      await this.redis.eval(RECORD, 1, this.key(clientKey), marker, String(this.ttlMs));
    } catch (err) {
      this.onRedisError(err, "record");
    }
  }

  /** The client's last write marker; undefined when it has not written within the TTL. */
  async lookup(clientKey: string): Promise<WriteMarker | undefined> {
    const mine = this.recall(clientKey);
    try {
      const stored = await this.redis.get(this.key(clientKey));
      if (stored === null) return mine;
      return later(mine, stored as WriteMarker);
    } catch (err) {
      this.onRedisError(err, "read");
      return mine ?? UNKNOWN_POSITION;
    }
  }

  private remember(clientKey: string, marker: WriteMarker) {
    const now = Date.now();
    const current = this.recall(clientKey);
    this.local.set(clientKey, { marker: later(current, marker), expiresAt: now + this.ttlMs });
    // Bounded memory: expired entries are dropped whenever the map grows past a few thousand clients.
    if (this.local.size > 10_000) {
      for (const [k, v] of this.local) if (v.expiresAt <= now) this.local.delete(k);
    }
  }

  private recall(clientKey: string): WriteMarker | undefined {
    const entry = this.local.get(clientKey);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.local.delete(clientKey);
      return undefined;
    }
    return entry.marker;
  }
}
