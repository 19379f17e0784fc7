import { loadReleaseConfig } from "../config/index.ts";
import { closeSql, connectSql, createDb } from "./connect.ts";
import { assertMigrated, createMigrator } from "./migrate.ts";
import { seedSpecies } from "./seed.ts";

/**
 * `bun run migrate [up|down|latest|status|release]`. `release` is the Fly release command: migrations to the
 * latest, then the species catalogue (idempotent: a fresh production database must not serve an empty
 * catalogue). Reads DATABASE_URL only, so the release Machine needs no other secret. The production bundle
 * runs the same function as `bun dist/app/main.js migrate <command>` (src/entry.ts). Failures set the exit code.
 */
export async function runMigrateCli(command: string): Promise<void> {
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
}

// No top-level await: the module is also part of the CommonJS production bundle.
if (import.meta.main) void runMigrateCli(process.argv[2] ?? "latest");
