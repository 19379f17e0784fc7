/**
 * A PostgreSQL primary + replica of a test's (or drill's) own, migrated and seeded like the shared one: for
 * faults that would disturb every other test if injected into the shared pair (stopping the primary).
 */
import { closeSql, connectSql, createDb } from "../../../src/db/connect.ts";
import { migrateToLatest } from "../../../src/db/migrate.ts";
import { seedSpecies } from "../../../src/db/seed.ts";
import { type PgPair, type StartPgPairOptions, startPgPair } from "./pg-pair.ts";

export async function startMigratedPgPair(opts: StartPgPairOptions = {}): Promise<PgPair> {
  const pair = await startPgPair(opts);
  const sql = connectSql(pair.primaryUrl, { max: 2, application: "private-pg-setup" });
  try {
    const db = createDb(sql);
    await migrateToLatest(db);
    await seedSpecies(db);
    await pair.waitForCatchUp(15_000);
    return pair;
  } catch (err) {
    await pair.stop();
    throw err;
  } finally {
    await closeSql(sql);
  }
}
