import type { Sql } from "postgres";
import type { Logger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";
import { queryWithDeadline } from "./deadline.ts";
import { type WalPosition, walPosition, walPositionToBigInt } from "./wal-position.ts";

type Sample = { lsn: bigint; at: number };
type Row = { lsn: string };

/** An on-demand refresh of the replay position runs at most this often, however many reads ask for one. */
const MIN_REFRESH_MS = 50;

/**
 * Watches the replica. Each check samples the primary's WAL position and the replica's replay position:
 * - lag is estimated as "how long ago did the primary reach a WAL position the replica has not replayed yet"
 *   (unlike now() - pg_last_xact_replay_timestamp(), an idle primary is not reported as lag);
 * - `replayed` (the replica's replay position) is what read-your-writes compares a client's last write with.
 * A primary outage does not make the replica unusable: it has replayed all it will get, and reads that do not
 * depend on a newer write stay correct there.
 */
export class ReplicaMonitor {
  usable = true;
  reason: "down" | "lagging" | "ok" = "ok";
  lagMs = 0;
  /** The replica's replay position at the last check; undefined until the first one answers. */
  replayed: WalPosition | undefined;
  private samples: Sample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private lastCheckAt = 0;

  constructor(
    private readonly primary: Sql,
    private readonly replica: Sql,
    private readonly opts: { maxLagMs: number; intervalMs: number; acquireMs?: number },
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  start() {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref?.();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  reportFailure(err: unknown) {
    this.set("down", `replica query failed: ${(err as Error)?.message ?? err}`);
  }

  /**
   * Whether the replica has replayed `position`, from the last known replay position. When it has not, a fresh
   * check is started (at most one per MIN_REFRESH_MS) so the next read sees the replica catch up promptly.
   */
  hasReplayed(position: WalPosition): boolean {
    if (this.replayed !== undefined && this.replayed >= position) return true;
    if (Date.now() - this.lastCheckAt >= MIN_REFRESH_MS) void this.check();
    return false;
  }

  check(): Promise<void> {
    this.running ??= this.sample().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sample(): Promise<void> {
    this.lastCheckAt = Date.now();
    // A fresh connection on a busy machine may take a while: waiting for one is bounded like any query's
    // (acquireMs); the statement itself is trivial and gets the health interval.
    const acquireMs = this.opts.acquireMs ?? 2_000;
    const deadlineMs = acquireMs + Math.max(500, this.opts.intervalMs);
    const [primary, replica] = await Promise.allSettled([
      queryWithDeadline(
        this.primary`select pg_current_wal_lsn()::text as lsn` as unknown as Promise<Row[]>,
        acquireMs,
        deadlineMs,
        "primary WAL position",
      ),
      queryWithDeadline(
        this.replica`select coalesce(pg_last_wal_replay_lsn(), '0/0')::text as lsn` as unknown as Promise<
          Row[]
        >,
        acquireMs,
        deadlineMs,
        "replica replay position",
      ),
    ]);
    const now = Date.now();
    if (replica.status === "rejected") {
      this.set("down", `replica check failed: ${(replica.reason as Error)?.message ?? replica.reason}`);
      return;
    }
    const replayedText = replica.value[0]?.lsn ?? "0/0";
    const position = walPosition(replayedText);
    if (this.replayed === undefined || position > this.replayed) this.replayed = position;
    if (primary.status === "rejected") {
      // Nothing new can reach the replica: what it has is as fresh as it gets. Lag is not estimated meanwhile.
      if (this.reason === "down") this.set("ok", "replica reachable (primary unreachable)");
      return;
    }
    this.samples.push({ lsn: walPositionToBigInt(walPosition(primary.value[0]?.lsn ?? "0/0")), at: now });
    if (this.samples.length > 64) this.samples.shift();
    const replayed = walPositionToBigInt(position);
    const oldestUnreplayed = this.samples.find((s) => s.lsn > replayed);
    this.samples = this.samples.filter((s) => s.lsn > replayed);
    this.lagMs = oldestUnreplayed ? now - oldestUnreplayed.at : 0;
    this.metrics.replicaLagSeconds.set(this.lagMs / 1000);
    if (this.lagMs > this.opts.maxLagMs) this.set("lagging", `replica lag ${this.lagMs} ms`);
    else this.set("ok", "replica healthy");
  }

  private set(reason: "down" | "lagging" | "ok", message: string) {
    if (reason === this.reason) return;
    const level = reason === "ok" ? "info" : "warn";
    this.logger[level]({ replica: reason, lagMs: this.lagMs }, message);
    this.reason = reason;
    this.usable = reason === "ok";
  }
}
