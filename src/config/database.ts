import { z } from "zod";
import { ms } from "./env-types.ts";

/** The primary, the replica and the deadlines on the database path (src/db/). */
export const DatabaseEnvShape = {
  DATABASE_URL: z.string().default("postgres://postgres@127.0.0.1:5432/plant_community"),
  DATABASE_REPLICA_URL: z.string().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(10),
  READ_AFTER_WRITE_WINDOW_MS: ms.default(15_000),
  REPLICA_MAX_LAG_MS: ms.default(10_000),
  REPLICA_HEALTH_INTERVAL_MS: ms.default(2_000),
  // Client-side deadlines on the database path (a dead server cannot enforce its own), see src/db/deadline.ts.
  DATABASE_CONNECT_TIMEOUT_MS: ms.min(100).default(2_000),
  DATABASE_ACQUIRE_TIMEOUT_MS: ms.min(10).default(2_000),
  DATABASE_STATEMENT_TIMEOUT_MS: ms.min(10).default(5_000),
  DATABASE_TRANSACTION_TIMEOUT_MS: ms.min(10).default(10_000),
  DATABASE_RECONNECT_MAX_MS: ms.min(10).default(500),
  // While a database is unreachable, requests are refused at once except one probe per interval.
  DATABASE_PROBE_INTERVAL_MS: ms.min(10).default(250),
};

type DatabaseEnv = z.infer<z.ZodObject<typeof DatabaseEnvShape>>;

export type DatabaseConfig = Readonly<{
  db: Readonly<{
    primaryUrl: string;
    replicaUrl: string | undefined;
    poolMax: number;
    readAfterWriteWindowMs: number;
    replicaMaxLagMs: number;
    replicaHealthIntervalMs: number;
    connectTimeoutMs: number;
    reconnectMaxMs: number;
    probeIntervalMs: number;
    deadlines: Readonly<{ acquireMs: number; statementMs: number; transactionMs: number }>;
  }>;
}>;

export function databaseConfig(e: DatabaseEnv): DatabaseConfig {
  return {
    db: {
      primaryUrl: e.DATABASE_URL,
      replicaUrl: e.DATABASE_REPLICA_URL || undefined,
      poolMax: e.DATABASE_POOL_MAX,
      readAfterWriteWindowMs: e.READ_AFTER_WRITE_WINDOW_MS,
      replicaMaxLagMs: e.REPLICA_MAX_LAG_MS,
      replicaHealthIntervalMs: e.REPLICA_HEALTH_INTERVAL_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      reconnectMaxMs: e.DATABASE_RECONNECT_MAX_MS,
      probeIntervalMs: e.DATABASE_PROBE_INTERVAL_MS,
      deadlines: {
        acquireMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
        statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
        transactionMs: e.DATABASE_TRANSACTION_TIMEOUT_MS,
      },
    },
  };
}
