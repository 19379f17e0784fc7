import type { Sql } from "postgres";
import type { Logger } from "../infra/logger.ts";
import type { Metrics } from "../infra/metrics.ts";

type Sample = { lsn: bigint; at: number };

/**
 * Estimates replica lag as "how long ago did the primary reach a WAL position the replica has not replayed
 * yet". Unlike now() - pg_last_xact_replay_timestamp(), this does not report an idle primary as lag.
 */
export class ReplicaMonitor {
  usable = true;
  reason: "down" | "lagging" | "ok" = "ok";
  lagMs = 0;
  private samples: Sample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;

  constructor(
    private readonly primary: Sql,
    private readonly replica: Sql,
    private readonly opts: { maxLagMs: number; intervalMs: number },
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

  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const [primaryRow] = await this.primary`select pg_current_wal_lsn()::text as lsn`;
      const now = Date.now();
      this.samples.push({ lsn: parseLsn(primaryRow!.lsn), at: now });
      if (this.samples.length > 64) this.samples.shift();
      const [replicaRow] = await timeout(
        this.replica`select coalesce(pg_last_wal_replay_lsn(), '0/0')::text as lsn`,
        Math.max(500, this.opts.intervalMs),
      );
      const replayed = parseLsn(replicaRow!.lsn);
      const oldestUnreplayed = this.samples.find((s) => s.lsn > replayed);
      this.samples = this.samples.filter((s) => s.lsn > replayed);
      this.lagMs = oldestUnreplayed ? now - oldestUnreplayed.at : 0;
      this.metrics.replicaLagSeconds.set(this.lagMs / 1000);
      if (this.lagMs > this.opts.maxLagMs) this.set("lagging", `replica lag ${this.lagMs} ms`);
      else this.set("ok", "replica healthy");
    } catch (err) {
      this.set("down", `replica check failed: ${(err as Error)?.message ?? err}`);
    } finally {
      this.running = false;
    }
  }

  private set(reason: "down" | "lagging" | "ok", message: string) {
    if (reason === this.reason) return;
    const level = reason === "ok" ? "info" : "warn";
    this.logger[level]({ replica: reason, lagMs: this.lagMs }, message);
    this.reason = reason;
    this.usable = reason === "ok";
  }
}

function parseLsn(text: string): bigint {
  const [hi = "0", lo = "0"] = text.split("/");
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

function timeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref(),
    ),
  ]);
}
