import { loadReleaseConfig } from "../config/index.ts";
import { closeSql, connectSql, createDb } from "./connect.ts";
import { assertMigrated, createMigrator } from "./migrate.ts";
import { seedSpecies } from "./seed.ts";

/**
 * `bun run migrate [up|down|latest|status|release]`. `release` is the Fly release command: migrations to the
 * latest, then the species catalogue (idempotent: a fresh production database must not serve an empty
 * catalogue). Reads DATABASE_URL only, so the release Machine needs no other secret.
 */
const command = process.argv[2] ?? "latest";
const config = loadReleaseConfig();
const sql = connectSql(config.databaseUrl, { max: 1, application: "plant-community-migrate" });
const db = createDb(sql);
const migrator = createMigrator(db);

try {
  if (command === "status") {
    for (const m of await migrator.getMigrations()) {
      console.log(
        `${m.executedAt ? `applied ${m.executedAt.toISOString()}` : "pending                          "}  ${m.name}`,
      );
    }
  } else {
    const run = {
      up: () => migrator.migrateUp(),
      down: () => migrator.migrateDown(),
      latest: () => migrator.migrateToLatest(),
      release: () => migrator.migrateToLatest(),
    }[command];
    if (!run) throw new Error(`unknown command "${command}": use up, down, latest, status or release`);
    const result = await run();
    for (const r of result.results ?? [])
      console.log(`${r.direction.toLowerCase()} ${r.migrationName}: ${r.status}`);
    assertMigrated(result);
    if (!result.results?.length) console.log("nothing to do");
    if (command === "release") {
      const { total, changed } = await seedSpecies(db);
      console.log(`species catalogue: ${total} species, ${changed} inserted or changed`);
    }
  }
} catch (err) {
  console.error(String((err as Error).message ?? err));
  process.exitCode = 1;
} finally {
  await closeSql(sql);
}
