import { readdir } from "node:fs/promises";
import path from "node:path";
import type { Migration } from "kysely/migration";
import { APP_ROOT } from "../app-root.ts";

/**
 * The migrations, by name in name order: plain Kysely<any> modules in migrations/ that never import src/.
 * From the sources they are read from the directory at run time. The production bundle replaces this module with
 * one that imports each file statically (scripts/build.ts, `bundledMigrations`), so the bundle carries its
 * migrations and the one Kysely they run with; keep the two exported signatures as they are.
 */
export const MIGRATIONS_DIR = path.join(APP_ROOT, "migrations");

export async function migrationNames(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith(".ts"))
    .sort()
    .map((f) => f.replace(/\.ts$/, ""));
}

export async function loadMigrations(): Promise<Record<string, Migration>> {
  const names = await migrationNames();
  const modules = await Promise.all(
    names.map(async (name) => (await import(path.join(MIGRATIONS_DIR, `${name}.ts`))) as Migration),
  );
  return Object.fromEntries(names.map((name, i) => [name, modules[i] as Migration]));
}
