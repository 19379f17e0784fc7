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
import { type DbGate, isUnreachable } from "./db-gate.ts";
import {
  DbTimeoutError,
  DbUnavailableError,
  type Deadlines,
  queryWithDeadline,
  reserveWithDeadline,
} from "./deadline.ts";

/** Called once per query with its duration in seconds (failed queries too); feeds db_query_duration_seconds. */
export type QueryTimer = (seconds: number) => void;

export type DialectOptions = {
  onQuery?: QueryTimer;
  /** Without them a query may wait as long as postgres.js does (migrations, scripts). */
  deadlines?: Deadlines;
  /** Fail fast while the server is known to be down (db-gate.ts). */
  gate?: DbGate;
};

/** A rollback after the transaction's deadline still gets this long: it releases the server's locks. */
const ROLLBACK_GRACE_MS = 2_000;

/**
 * Kysely over postgres.js without a reserved connection per query.
 *
 * The published kysely-postgres-js dialect calls `sql.reserve()` for every query, which serialises queries on
 * a handful of connections and costs a round of pool bookkeeping each time (measured: about half the
 * throughput of plain postgres.js on the catalogue read). Here a single query goes straight to the pool,
 * where postgres.js pipelines it; a connection is reserved only when Kysely opens a transaction.
 * Every query, reservation and transaction has a client-side deadline (deadline.ts) when `deadlines` is set.
 */
export class PostgresJsDialect implements Dialect {
  constructor(
    private readonly sql: Sql,
    private readonly opts: DialectOptions = {},
  ) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PooledDriver(this.sql, this.opts);
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
    private readonly opts: DialectOptions,
  ) {}
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PooledConnection(this.sql, this.opts);
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const conn = connection as PooledConnection;
    await conn.reserve();
    let begin = "begin";
    if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) begin += ` ${settings.accessMode}`;
    conn.beginPipelined(CompiledQuery.raw(begin));
  }
  async commitTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection) {
    const conn = connection as PooledConnection;
    conn.rollingBack = true;
    await conn.executeQuery(CompiledQuery.raw("rollback"));
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
  /** Set by `reserve()`: the moment the transaction must be over. */
  private transactionDeadlineAt = Number.POSITIVE_INFINITY;
  rollingBack = false;
  /**
   * The transaction's BEGIN, sent but not yet awaited: it travels with the transaction's first statement (one
   * round trip instead of two; postgres.js pipelines what is sent on one connection, and the server runs it in
   * order), and that statement's caller gets BEGIN's error first if it failed.
   */
  private pendingBegin: Promise<unknown> | undefined;
  /** The reserved connection's socket failed: nothing more may be sent on it (see release()). */
  private broken = false;
  /** A statement of the transaction passed its deadline and may still be running on the connection. */
  private stuck = false;
  constructor(
    private readonly pool: Sql,
    private readonly opts: DialectOptions,
  ) {}

  async reserve() {
    if (this.reserved) return;
    const { deadlines, gate } = this.opts;
    if (!deadlines) {
      this.reserved = await this.pool.reserve();
      return;
    }
    const reserving = () => reserveWithDeadline(this.pool, deadlines.acquireMs);
    this.reserved = gate ? await gate.run(reserving) : await reserving();
    this.transactionDeadlineAt = performance.now() + deadlines.transactionMs;
  }
  beginPipelined(begin: CompiledQuery) {
    const sent = this.executeQuery(begin);
    // Handled here so a failed BEGIN is never an unhandled rejection; re-thrown to the next statement's caller.
    sent.catch(() => {});
    this.pendingBegin = sent;
  }

  release() {
    // A reserved connection whose socket died must not be handed back: postgres.js has already put it among
    // its closed connections, and release() would mark it open, so the next query would be written to a
    // socket that is gone (an uncaught TypeError in postgres.js that kills the process).
    if (!this.broken) this.reserved?.release();
    this.reserved = undefined;
    this.broken = false;
    this.stuck = false;
    this.transactionDeadlineAt = Number.POSITIVE_INFINITY;
    this.rollingBack = false;
    this.pendingBegin = undefined;
  }

  /** The time this statement may take: the statement deadline, cut short by the transaction's. */
  private budgetMs(deadlines: Deadlines): number {
    if (this.rollingBack) return Math.min(deadlines.statementMs, ROLLBACK_GRACE_MS);
    const left = this.transactionDeadlineAt - performance.now();
    if (left <= 0) {
      throw new DbTimeoutError(`the transaction ran past its deadline of ${deadlines.transactionMs} ms`);
    }
    return Math.min(deadlines.statementMs, left);
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const begin = this.pendingBegin;
    if (begin) {
      this.pendingBegin = undefined;
      const statement = this.executeQuery<R>(compiled);
      statement.catch(() => {});
      await begin;
      return statement;
    }
    if (this.broken) {
      // The server ended the session, and with it the transaction: there is nothing left to roll back.
      if (this.rollingBack) return { rows: [] };
      throw new DbUnavailableError("the transaction's database connection was lost");
    }
    // Kysely's migration lock is a session-level pg_advisory_lock, unlocked later on "the same connection": pin
    // this connection from the lock on (its transaction reuses it), or the unlock lands on another pooled
    // connection and the lock stays held, hanging the next instance's start.
    if (!this.reserved && compiled.sql.includes("pg_advisory_lock(")) await this.reserve();
    const target = this.reserved ?? this.pool;
    const { deadlines, gate, onQuery } = this.opts;
    if (this.rollingBack && this.stuck) {
      // A statement of this transaction is still running (we stopped waiting for it). The rollback is queued
      // behind it on the same connection, so it runs before anything the next user of the connection sends;
      // waiting for it would only add the stuck statement's time to the request's.
      target.unsafe("rollback").catch(() => {});
      return { rows: [] };
    }
    const send = () => {
      const budget = deadlines && this.budgetMs(deadlines);
      const pending = target.unsafe(compiled.sql, compiled.parameters as any[], { prepare: true });
      if (!deadlines || budget === undefined) return pending;
      const acquireMs = Math.min(deadlines.acquireMs, budget);
      return queryWithDeadline(pending, acquireMs, budget, "query", this.reserved === undefined);
    };
    const started = performance.now();
    let result: Awaited<ReturnType<Sql["unsafe"]>>;
    try {
      // Inside a transaction the connection is already ours: the gate was passed at `reserve()`.
      result = gate ? await gate.run(send, this.reserved !== undefined) : await send();
    } catch (err) {
      if (this.reserved && isUnreachable(err)) this.broken = true;
      if (this.reserved && err instanceof DbTimeoutError) this.stuck = true;
      throw err;
    } finally {
      onQuery?.((performance.now() - started) / 1000);
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
