import { closeSql, connectSql, createDb } from "../src/db/connect.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { seedSpecies } from "../src/db/seed.ts";

// Once per `bun test` run: the schema and the catalogue every test may rely on. Tests add their own rows.
if (process.env.TEST_DATABASE_URL) {
  const sql = connectSql(process.env.TEST_DATABASE_URL, { max: 2, application: "test-setup" });
  const replica = process.env.TEST_DATABASE_REPLICA_URL
    ? connectSql(process.env.TEST_DATABASE_REPLICA_URL, { max: 1, application: "test-setup" })
    : undefined;
  try {
    const db = createDb(sql);
    await migrateToLatest(db);
    await seedSpecies(db);
    // Tests read the catalogue through the replica: start only once it has replayed the seed. The insert
    // position (commits are asynchronous here: the write position can still be short of the seed's commit).
    const [{ lsn }] = (await sql`select pg_current_wal_insert_lsn()::text as lsn`) as unknown as [
      { lsn: string },
    ];
    const deadline = Date.now() + 10_000;
    while (replica) {
      const [row] = await replica`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as caught_up`;
      if (row?.caught_up) break;
      if (Date.now() > deadline) throw new Error("the test replica did not replay the seed within 10 s");
      await Bun.sleep(10);
    }
  } finally {
    await Promise.all([closeSql(sql), replica && closeSql(replica)]);
  }
}
