import { readdir } from "node:fs/promises";
import path from "node:path";
import type { Kysely } from "kysely";
import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator } from "kysely/migration";

export const MIGRATIONS_DIR = path.resolve(import.meta.dir, "../../migrations");

/** Loads migrations/*.ts in name order; they are plain Kysely<any> modules and never import src/. */
class DirectoryMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith(".ts")).sort();
    const entries = await Promise.all(
      files.map(
        async (f) =>
          [f.replace(/\.ts$/, ""), (await import(path.join(MIGRATIONS_DIR, f))) as Migration] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
}

export function createMigrator(db: Kysely<any>) {
  return new Migrator({ db, provider: new DirectoryMigrationProvider() });
}

export function assertMigrated({ error, results }: MigrationResultSet): void {
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(
      `migration ${failed?.migrationName ?? ""} failed: ${String((error as Error)?.message ?? error)}`,
    );
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const result = await createMigrator(db).migrateToLatest();
  assertMigrated(result);
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
