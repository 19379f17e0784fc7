import { Kysely } from "kysely";
import postgres, { type Sql } from "postgres";
import type { Metrics } from "../infra/metrics.ts";
import { PostgresJsDialect } from "./postgres-dialect.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

export function connectSql(url: string, opts: { max: number; application: string }): Sql {
  return postgres(url, {
    max: opts.max,
    prepare: true,
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: opts.application },
  });
}

/** With `timing`, every query is observed in db_query_duration_seconds{target}. */
export function createDb(sql: Sql, timing?: { metrics: Metrics; target: "primary" | "replica" }): Db {
  const onQuery = timing
    ? (seconds: number) => timing.metrics.dbQueryDuration.observe({ target: timing.target }, seconds)
    : undefined;
  return new Kysely<Database>({ dialect: new PostgresJsDialect(sql, onQuery) });
}

/** postgres.js can wait forever in end() after failed connections; never let shutdown hang on it. */
export async function closeSql(sql: Sql, timeoutSeconds = 2): Promise<void> {
  await Promise.race([
    sql.end({ timeout: timeoutSeconds }),
    new Promise<void>((resolve) => setTimeout(resolve, timeoutSeconds * 1000 + 500).unref()),
  ]);
}
