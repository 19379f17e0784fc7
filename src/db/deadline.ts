import type { ReservedSql, Sql } from "postgres";

/**
 * Client-side deadlines for postgres.js. A dead or unreachable server cannot enforce its own
 * statement_timeout, and postgres.js itself puts no deadline on a query waiting for a connection or on
 * `sql.reserve()` (LIBRARY-FACTS), so every call on the request path goes through these.
 */

/** The database did not answer in time. `code` puts it among the connection errors (503, not 500). */
export class DbTimeoutError extends Error {
  override readonly name = "DbTimeoutError";
  readonly code = "DB_TIMEOUT";
}

/** The database is known to be unreachable right now: refused at once instead of queueing (see DbGate). */
export class DbUnavailableError extends Error {
  override readonly name = "DbUnavailableError";
  readonly code = "DB_UNAVAILABLE";
}

export type Deadlines = {
  /** Waiting for a pooled connection (or a reservation) before the query is sent. */
  acquireMs: number;
  /** One statement, from the moment it is sent. */
  statementMs: number;
  /** A whole transaction, from `begin` to `commit`. */
  transactionMs: number;
};

/**
 * Runs `query` with two deadlines: `acquireMs` while it still waits for a connection (postgres.js has not sent
 * it: cancelling just removes it from the queue), and `totalMs` overall (a sent query is also cancelled on the
 * server, which a dead server ignores; our caller gets its answer either way).
 */
export function queryWithDeadline<T>(
  query: Promise<T>,
  acquireMs: number,
  totalMs: number,
  what: string,
  /**
   * False inside a transaction: there the statement is left to run (the server's own statement_timeout ends
   * it) because cancelling could take a later ROLLBACK with it and leave the connection in an open transaction.
   */
  cancel = true,
): Promise<T> {
  const pending = query as Promise<T> & { state?: unknown; cancel?: () => unknown };
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const giveUp = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(acquireTimer);
      clearTimeout(totalTimer);
      try {
        if (cancel) Promise.resolve(pending.cancel?.()).catch(() => {});
      } catch {
        // nothing to cancel
      }
      reject(new DbTimeoutError(message));
    };
    const acquireTimer = setTimeout(
      () => {
        // `state` is set once postgres.js has written the query to a connection.
        if (!pending.state) giveUp(`${what}: no database connection within ${acquireMs} ms`);
      },
      Math.max(0, acquireMs),
    );
    const totalTimer = setTimeout(
      () => giveUp(`${what}: no answer from the database within ${totalMs} ms`),
      Math.max(0, totalMs),
    );
    pending.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(acquireTimer);
        clearTimeout(totalTimer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(acquireTimer);
        clearTimeout(totalTimer);
        reject(err);
      },
    );
  });
}

/**
 * `sql.reserve()` with a deadline. postgres.js cannot withdraw a reservation request, so one that is granted
 * after we gave up is released at once instead of leaking the connection.
 */
export function reserveWithDeadline(sql: Sql, ms: number): Promise<ReservedSql> {
  const reserving = sql.reserve();
  return new Promise<ReservedSql>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new DbTimeoutError(`no database connection reserved within ${ms} ms`));
    }, ms);
    reserving.then(
      (reserved) => {
        clearTimeout(timer);
        if (late) reserved.release();
        else resolve(reserved);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!late) reject(err);
      },
    );
  });
}
