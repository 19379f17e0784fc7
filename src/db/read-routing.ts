import type { Redis } from "ioredis";
import type { Sql } from "postgres";
import type { Logger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";
import type { Db } from "./connect.ts";
import type { DbGate } from "./db-gate.ts";
import { queryWithDeadline } from "./deadline.ts";
import { isConnectionError } from "./errors.ts";
import { ReplicaMonitor } from "./replica-monitor.ts";
import { walPosition } from "./wal-position.ts";
import { UNKNOWN_POSITION, type WriteMarker, WritePositions } from "./write-positions.ts";

export type DbTargets = {
  primary: Db;
  replica: Db | undefined;
  primarySql: Sql;
  replicaSql: Sql | undefined;
  /** Fail-fast gates (db-gate.ts); `primaryGate.down` tells /ready and the drills what the API sees. */
  primaryGate?: DbGate;
  replicaGate?: DbGate;
};

export type RoutingOptions = {
  /** 0 turns read-your-writes off. Otherwise a floor: see `markerTtlMs`. */
  windowMs: number;
  maxLagMs: number;
  intervalMs: number;
  keyPrefix: string;
  /** Deadline of the WAL-position query after a write. */
  positionTimeoutMs?: number;
  /** How long the replica monitor waits for a connection. */
  acquireMs?: number;
};

/**
 * How long a client's write marker lives. Past it the client may read from the replica whatever its replay
 * position; by then a replica that still has not replayed the write has lagged past the bound for two health
 * checks and is skipped for everyone. A configured window shorter than that would allow stale reads (the
 * first build had a 5 s window against a 10 s lag bound), so it is only a floor.
 */
export function markerTtlMs(opts: Pick<RoutingOptions, "windowMs" | "maxLagMs" | "intervalMs">): number {
  return Math.max(opts.windowMs, opts.maxLagMs + 2 * opts.intervalMs);
}

/**
 * Decides where a read goes. Writes and transactions always use `primary` directly.
 * Read-your-writes by construction: after a write the caller records the primary's WAL position for its client
 * (`markWrite`); that client's reads use the replica only once the replica has replayed past it. A replica that
 * is down or lagging is skipped for everyone, and the user never sees an error for it.
 */
export class DbRouter {
  readonly primary: Db;
  readonly replica: Db | undefined;
  readonly monitor: ReplicaMonitor | undefined;
  readonly primaryGate: DbGate | undefined;
  private readonly primarySql: Sql;
  private readonly positions: WritePositions;
  private readonly enabled: boolean;

  constructor(
    targets: DbTargets,
    redis: Redis,
    private readonly opts: RoutingOptions,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.primary = targets.primary;
    this.replica = targets.replica;
    this.primarySql = targets.primarySql;
    this.primaryGate = targets.primaryGate;
    this.enabled = opts.windowMs > 0;
    if (targets.replicaSql) {
      this.monitor = new ReplicaMonitor(targets.primarySql, targets.replicaSql, opts, logger, metrics);
    }
    this.positions = new WritePositions(redis, opts.keyPrefix, markerTtlMs(opts), (err, op) =>
      logger.warn(
        { err: String(err), op },
        op === "record" ? "write position not stored in redis" : "write position not read from redis",
      ),
    );
  }

  /** Called after a successful write so this client's next reads see it, on every instance. */
  async markWrite(clientKey: string): Promise<void> {
    if (!this.replica || !this.enabled) return;
    await this.positions.record(clientKey, await this.currentPosition());
  }

  /** Where the primary's WAL ends now: at or past the end of every transaction committed before the call. */
  private async currentPosition(): Promise<WriteMarker> {
    try {
      // The insert position, not the write position: with synchronous_commit off a commit can return before
      // its record is written out, and it is always before the insert position.
      const [row] = await queryWithDeadline(
        this.primarySql`select pg_current_wal_insert_lsn()::text as lsn` as unknown as Promise<
          { lsn: string }[]
        >,
        this.opts.positionTimeoutMs ?? 1_000,
        this.opts.positionTimeoutMs ?? 1_000,
        "WAL position",
      );
      return row ? walPosition(row.lsn) : UNKNOWN_POSITION;
    } catch (err) {
      // The write is committed; without its position the client's reads stay on the primary for the TTL.
      this.logger.warn(
        { err: String(err) },
        "WAL position after a write not read; falling back to the window",
      );
      return UNKNOWN_POSITION;
    }
  }

  private async pick(clientKey: string | undefined): Promise<{ db: Db; onReplica: boolean }> {
    if (!this.replica || !this.monitor) return { db: this.primary, onReplica: false };
    if (!this.monitor.usable) {
      this.metrics.replicaFallbacks.inc({ reason: this.monitor.reason });
      return { db: this.primary, onReplica: false };
    }
    if (clientKey && this.enabled) {
      const marker = await this.positions.lookup(clientKey);
      if (marker === UNKNOWN_POSITION) return { db: this.primary, onReplica: false };
      if (marker !== undefined && !this.monitor.hasReplayed(marker))
        return { db: this.primary, onReplica: false };
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

  /**
   * A read that must see every write already acknowledged to anyone, not only the caller's own: the operator
   * views (audit log, dead letters), which are rare and look at what other actors and the workers just did.
   */
  readCurrent<T>(query: (db: Db) => Promise<T>): Promise<T> {
    return query(this.primary);
  }

  start() {
    this.monitor?.start();
  }
  stop() {
    this.monitor?.stop();
  }
}
