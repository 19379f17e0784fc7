import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
  TransactionSettings,
} from "kysely";
import { failSpan, SpanKind, startChildSpan } from "./spans.ts";

export type DbTarget = "primary" | "replica";

/**
 * A span per SQL statement (`db.query.text` is the statement with its $n placeholders, never the values) with
 * the database it ran on. Wraps any Kysely dialect; statements Kysely sends to open and end transactions
 * (begin, commit, rollback) go through the inner driver and are not recorded.
 */
export function tracedDialect(inner: Dialect, target: DbTarget): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => new TracedDriver(inner.createDriver(), target),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
  };
}

class TracedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly target: DbTarget,
  ) {}
  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const operation = compiled.sql.trimStart().split(/\s/, 1)[0]?.toUpperCase() ?? "";
    const span = startChildSpan(
      `${operation} ${this.target}`,
      {
        "db.system.name": "postgresql",
        "db.operation.name": operation,
        "db.query.text": compiled.sql.slice(0, 2_000),
        "plant.db.target": this.target,
      },
      SpanKind.CLIENT,
    );
    if (!span) return this.inner.executeQuery<R>(compiled);
    try {
      const result = await this.inner.executeQuery<R>(compiled);
      span.setAttribute("db.response.returned_rows", result.rows.length);
      return result;
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  }
  streamQuery<R>(compiled: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiled, chunkSize);
  }
}

const unwrap = (c: DatabaseConnection) => (c instanceof TracedConnection ? c.inner : c);

class TracedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly target: DbTarget,
  ) {}
  init() {
    return this.inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new TracedConnection(await this.inner.acquireConnection(), this.target);
  }
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings) {
    return this.inner.beginTransaction(unwrap(c), settings);
  }
  commitTransaction(c: DatabaseConnection) {
    return this.inner.commitTransaction(unwrap(c));
  }
  rollbackTransaction(c: DatabaseConnection) {
    return this.inner.rollbackTransaction(unwrap(c));
  }
  releaseConnection(c: DatabaseConnection) {
    return this.inner.releaseConnection(unwrap(c));
  }
  destroy() {
    return this.inner.destroy();
  }
}
