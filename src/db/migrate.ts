import type { Kysely } from "kysely";
import {
  DEFAULT_MIGRATION_TABLE,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
} from "kysely/migration";
import { loadMigrations, migrationNames } from "./migration-files.ts";

/** Loads the migrations (src/db/migration-files.ts: the directory, or the bundle's own copies). */
class MigrationFilesProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return loadMigrations();
  }
}

export function createMigrator(db: Kysely<any>) {
  return new Migrator({ db, provider: new MigrationFilesProvider() });
}

export function assertMigrated({ error, results }: MigrationResultSet): void {
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(
      `migration ${failed?.migrationName ?? ""} failed: ${String((error as Error)?.message ?? error)}`,
    );
  }
}

/**
 * Whether every migration file has been applied, asked without loading them: a start that finds nothing to do
 * (every start but the first after a change) then skips importing and transpiling each migration module
 * (measured on `bun run bench species`, "cold start"). Any doubt answers false and the Migrator decides.
 */
async function allApplied(db: Kysely<any>): Promise<boolean> {
  const names = await migrationNames();
  const rows = await db
    .selectFrom(DEFAULT_MIGRATION_TABLE)
    .select("name")
    .execute()
    .catch(() => undefined); // no table yet: a fresh database
  if (!rows) return false;
  const applied = new Set(rows.map((r) => r.name as string));
  return names.every((name) => applied.has(name));
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  if (await allApplied(db)) return [];
  const result = await createMigrator(db).migrateToLatest();
  assertMigrated(result);
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
