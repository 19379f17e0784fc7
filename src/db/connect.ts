import { Kysely } from "kysely";
import postgres, { type Sql } from "postgres";
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

export function createDb(sql: Sql): Db {
  return new Kysely<Database>({ dialect: new PostgresJsDialect(sql) });
}

/** postgres.js can wait forever in end() after failed connections; never let shutdown hang on it. */
export async function closeSql(sql: Sql, timeoutSeconds = 2): Promise<void> {
  await Promise.race([
    sql.end({ timeout: timeoutSeconds }),
    new Promise<void>((resolve) => setTimeout(resolve, timeoutSeconds * 1000 + 500).unref()),
  ]);
}
