import { closeSql, connectSql, createDb } from "../src/db/connect.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { seedSpecies } from "../src/db/seed.ts";

// Once per `bun test` run: the schema and the catalogue every test may rely on. Tests add their own rows.
if (process.env.TEST_DATABASE_URL) {
  const sql = connectSql(process.env.TEST_DATABASE_URL, { max: 2, application: "test-setup" });
  try {
    const db = createDb(sql);
    await migrateToLatest(db);
    await seedSpecies(db);
  } finally {
    await closeSql(sql);
  }
}
