import type { Redis } from "ioredis";
import type { Sql } from "postgres";
import type { Logger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Db } from "./connect.ts";
import { isConnectionError } from "./errors.ts";
import { ReplicaMonitor } from "./replica-monitor.ts";

export type DbTargets = {
  primary: Db;
  replica: Db | undefined;
  primarySql: Sql;
  replicaSql: Sql | undefined;
};

/**
 * Decides where a read goes. Writes and transactions always use `primary` directly.
 * A caller that wrote recently reads from the primary for `windowMs` (marker in Redis, so every instance
 * agrees); a replica that is down or lagging is skipped, and the user never sees an error for it.
 */
export class DbRouter {
  readonly primary: Db;
  readonly replica: Db | undefined;
  readonly monitor: ReplicaMonitor | undefined;

  constructor(
    targets: DbTargets,
    private readonly redis: Redis,
    private readonly opts: { windowMs: number; maxLagMs: number; intervalMs: number; keyPrefix: string },
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.primary = targets.primary;
    this.replica = targets.replica;
    if (targets.replicaSql) {
      this.monitor = new ReplicaMonitor(targets.primarySql, targets.replicaSql, opts, logger, metrics);
    }
  }

  private markerKey(clientKey: string) {
    return `${this.opts.keyPrefix}raw:${clientKey}`;
  }

  /** Called after a successful write so this client's next reads see it. */
  async markWrite(clientKey: string): Promise<void> {
    if (!this.replica || this.opts.windowMs === 0) return;
    try {
      await this.redis.set(this.markerKey(clientKey), "1", "PX", this.opts.windowMs);
    } catch (err) {
      this.logger.warn({ err: String(err) }, "read-after-write marker not stored");
    }
  }

  private async pick(clientKey: string | undefined): Promise<{ db: Db; onReplica: boolean }> {
    if (!this.replica || !this.monitor) return { db: this.primary, onReplica: false };
    if (!this.monitor.usable) {
      this.metrics.replicaFallbacks.inc({ reason: this.monitor.reason });
      return { db: this.primary, onReplica: false };
    }
    if (clientKey && this.opts.windowMs > 0) {
      try {
        if (await this.redis.exists(this.markerKey(clientKey))) return { db: this.primary, onReplica: false };
      } catch {
        // Without Redis we cannot know whether this client just wrote: the primary is always correct.
        return { db: this.primary, onReplica: false };
      }
    }
    return { db: this.replica, onReplica: true };
  }

  /** Runs a read on the right database; a replica failure is retried once on the primary. */
  async read<T>(clientKey: string | undefined, query: (db: Db) => Promise<T>): Promise<T> {
    const { db, onReplica } = await this.pick(clientKey);
    if (!onReplica) return query(db);
    try {
      return await query(db);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.monitor?.reportFailure(err);
      this.metrics.replicaFallbacks.inc({ reason: "error" });
      return query(this.primary);
    }
  }

  start() {
    this.monitor?.start();
  }
  stop() {
    this.monitor?.stop();
  }
}
