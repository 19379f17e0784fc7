import { Kysely } from "kysely";
import postgres, { type Sql } from "postgres";
import type { Metrics } from "../infra/metrics.ts";
import { tracedDialect } from "../infra/tracing/traced-dialect.ts";
import type { DbGate } from "./db-gate.ts";
import type { Deadlines } from "./deadline.ts";
import { PostgresJsDialect } from "./postgres-dialect.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

export type ConnectOptions = {
  max: number;
  application: string;
  /** Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * Longest pause between reconnect attempts (default: postgres.js's own, which grows to 20 s and holds every
   * queued query behind it, LIBRARY-FACTS). The API and workers cap it so the primary's return is seen at once.
   */
  reconnectMaxMs?: number;
  /**
   * Server-side limits matching our client-side deadlines, so the server stops work nobody waits for any more
   * and an abandoned transaction does not hold its locks. Unset for migrations, which may run long.
   */
  serverDeadlines?: Deadlines;
};

export function connectSql(url: string, opts: ConnectOptions): Sql {
  const reconnectMaxSeconds = opts.reconnectMaxMs === undefined ? undefined : opts.reconnectMaxMs / 1000;
  const server = opts.serverDeadlines;
  return postgres(url, {
    max: opts.max,
    prepare: true,
    connect_timeout: (opts.connectTimeoutMs ?? 5_000) / 1000,
    idle_timeout: 60,
    onnotice: () => {},
    // Jittered exponential from 50 ms, capped: the same shape as postgres.js's default, without its 20 s tail.
    ...(reconnectMaxSeconds === undefined
      ? {}
      : {
          backoff: (retries: number) =>
            (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, reconnectMaxSeconds),
        }),
    connection: {
      application_name: opts.application,
      ...(server
        ? {
            // A little later than ours: the client gives up first and gets our error, the server then cleans up.
            statement_timeout: server.statementMs + 1_000,
            idle_in_transaction_session_timeout: server.transactionMs + 1_000,
          }
        : {}),
    },
  });
}

export type DbOptions = {
  /** Every query is observed in db_query_duration_seconds{target}. */
  timing?: { metrics: Metrics; target: "primary" | "replica" };
  deadlines?: Deadlines;
  gate?: DbGate;
  /** A span per statement (tracing on), named by `timing.target`. */
  traced?: boolean;
};

export function createDb(sql: Sql, opts: DbOptions = {}): Db {
  const { timing } = opts;
  const onQuery = timing
    ? (seconds: number) => timing.metrics.dbQueryDuration.observe({ target: timing.target }, seconds)
    : undefined;
  const dialect = new PostgresJsDialect(sql, { onQuery, deadlines: opts.deadlines, gate: opts.gate });
  return new Kysely<Database>({
    dialect: opts.traced ? tracedDialect(dialect, timing?.target ?? "primary") : dialect,
  });
}

/** postgres.js can wait forever in end() after failed connections; never let shutdown hang on it. */
export async function closeSql(sql: Sql, timeoutSeconds = 2): Promise<void> {
  await Promise.race([
    sql.end({ timeout: timeoutSeconds }),
    new Promise<void>((resolve) => setTimeout(resolve, timeoutSeconds * 1000 + 500).unref()),
  ]);
}
