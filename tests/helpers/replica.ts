import { sql } from "kysely";
import type { Deps } from "../../src/deps.ts";
import { waitFor } from "./app.ts";

/**
 * Waits until the replica has replayed everything the primary had committed when called. The insert position,
 * not pg_current_wal_lsn() (the write position): the test cluster commits with synchronous_commit off, so the
 * commit record of a write that has already answered can still sit in the WAL buffers behind the write position,
 * and a wait on that position could return before the replica has the row (seen on a loaded machine: the last
 * feedback of the performance report's seed missing from its replica read).
 */
export async function waitForReplicaReplay(deps: Pick<Deps, "db">, timeoutMs = 10_000): Promise<void> {
  const replica = deps.db.replica;
  if (!replica) return;
  const { rows } = await sql<{ lsn: string }>`select pg_current_wal_insert_lsn()::text as lsn`.execute(
    deps.db.primary,
  );
  const lsn = rows[0]!.lsn;
  await waitFor(
    async () => {
      const r = await sql<{ ok: boolean }>`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as ok`.execute(
        replica,
      );
      return r.rows[0]?.ok === true;
    },
    { timeoutMs, what: "the replica to replay the primary's writes" },
  );
}
