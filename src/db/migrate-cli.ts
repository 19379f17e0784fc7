import { loadConfig } from "../config.ts";
import { closeSql, connectSql, createDb } from "./connect.ts";
import { assertMigrated, createMigrator } from "./migrate.ts";

/** `bun run migrate [up|down|latest|status]` — also the Fly release command. */
const command = process.argv[2] ?? "latest";
const config = loadConfig();
const sql = connectSql(config.db.primaryUrl, { max: 1, application: "plant-community-migrate" });
const migrator = createMigrator(createDb(sql));

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
    }[command];
    if (!run) throw new Error(`unknown command "${command}": use up, down, latest or status`);
    const result = await run();
    for (const r of result.results ?? [])
      console.log(`${r.direction.toLowerCase()} ${r.migrationName}: ${r.status}`);
    assertMigrated(result);
    if (!result.results?.length) console.log("nothing to do");
  }
} catch (err) {
  console.error(String((err as Error).message ?? err));
  process.exitCode = 1;
} finally {
  await closeSql(sql);
}
