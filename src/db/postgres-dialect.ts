import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { ReservedSql, Sql } from "postgres";

/** Called once per query with its duration in seconds (failed queries too); feeds db_query_duration_seconds. */
export type QueryTimer = (seconds: number) => void;

/**
 * Kysely over postgres.js without a reserved connection per query.
 *
 * The published kysely-postgres-js dialect calls `sql.reserve()` for every query, which serialises queries on
 * a handful of connections and costs a round of pool bookkeeping each time (measured: about half the
 * throughput of plain postgres.js on the catalogue read). Here a single query goes straight to the pool,
 * where postgres.js pipelines it; a connection is reserved only when Kysely opens a transaction.
 */
export class PostgresJsDialect implements Dialect {
  constructor(
    private readonly sql: Sql,
    private readonly onQuery?: QueryTimer,
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PooledDriver(this.sql, this.onQuery);
  }
  createIntrospector(db: Kysely<any>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PooledDriver implements Driver {
  constructor(
    private readonly sql: Sql,
    private readonly onQuery?: QueryTimer,
  ) {}
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PooledConnection(this.sql, this.onQuery);
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const conn = connection as PooledConnection;
    await conn.reserve();
    let begin = "begin";
    if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) begin += ` ${settings.accessMode}`;
    await conn.executeQuery(CompiledQuery.raw(begin));
  }
  async commitTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }
  async releaseConnection(connection: DatabaseConnection) {
    (connection as PooledConnection).release();
  }
  async destroy() {
    // Ending is the owner's job (see closeSql): it needs a timeout, or a dead server hangs shutdown.
  }
}

class PooledConnection implements DatabaseConnection {
  private reserved: ReservedSql | undefined;
  constructor(
    private readonly pool: Sql,
    private readonly onQuery?: QueryTimer,
  ) {}

  async reserve() {
    this.reserved ??= await this.pool.reserve();
  }
  release() {
    this.reserved?.release();
    this.reserved = undefined;
  }
  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    // Kysely's migration lock is a session-level pg_advisory_lock, unlocked later on "the same connection": pin
    // this connection from the lock on (its transaction reuses it), or the unlock lands on another pooled
    // connection and the lock stays held, hanging the next instance's start.
    if (!this.reserved && compiled.sql.includes("pg_advisory_lock(")) await this.reserve();
    const target = this.reserved ?? this.pool;
    const started = performance.now();
    let result: Awaited<ReturnType<Sql["unsafe"]>>;
    try {
      result = await target.unsafe(compiled.sql, compiled.parameters as any[], { prepare: true });
    } finally {
      this.onQuery?.((performance.now() - started) / 1000);
    }
    const command = result.command;
    return {
      numAffectedRows:
        command === "INSERT" || command === "UPDATE" || command === "DELETE" || command === "MERGE"
          ? BigInt(result.count)
          : undefined,
      rows: result as unknown as R[],
    };
  }
  // biome-ignore lint/correctness/useYield: streaming is not offered by this dialect.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("streamQuery is not supported by this dialect");
  }
}
