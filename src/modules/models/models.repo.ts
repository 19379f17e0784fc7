import { type Selectable, sql } from "kysely";
import type { Db } from "../../db/connect.ts";
import type {
  BucketRange,
  ExperimentsTable,
  ExperimentVariantsTable,
  ModelSettingsJson,
  ModelStatus,
  ModelsTable,
} from "../../db/schema-models.ts";

export type ModelRow = Selectable<ModelsTable>;
export type ExperimentRow = Selectable<ExperimentsTable>;
export type VariantRow = Selectable<ExperimentVariantsTable>;
export type ExperimentWithVariants = ExperimentRow & { variants: VariantRow[] };

/** Settings as stored: keys sorted, empty values left out, so equal settings compare equal in the unique index. */
export function normaliseSettings(settings: ModelSettingsJson): ModelSettingsJson {
  const out: Record<string, string> = {};
  for (const key of Object.keys(settings).sort()) {
    const value = settings[key as keyof ModelSettingsJson];
    if (value !== undefined && value !== "") out[key] = value;
  }
  return out as ModelSettingsJson;
}

/** Undefined when a model with the same provider, version and settings exists. */
export async function insertModel(
  db: Db,
  m: { provider: string; version: string; settings: ModelSettingsJson; status: ModelStatus },
): Promise<ModelRow | undefined> {
  return db
    .insertInto("models")
    .values({ id: Bun.randomUUIDv7(), ...m, settings: normaliseSettings(m.settings) })
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

export type ModelKey = { provider: string; version: string; settings: ModelSettingsJson };

/** The ids of the models already registered, in one query: index i holds wanted[i]'s id, or undefined. */
export async function findModelIds(db: Db, wanted: readonly ModelKey[]): Promise<(string | undefined)[]> {
  if (wanted.length === 0) return [];
  const values = sql.join(
    wanted.map(
      (m, i) =>
        sql`(${i}::int, ${m.provider}::text, ${m.version}::text, ${JSON.stringify(normaliseSettings(m.settings))}::text::jsonb)`,
    ),
  );
  const { rows } = await sql<{ i: number; id: string }>`
    select w.i, m.id from (values ${values}) as w (i, provider, version, settings)
    join models m on m.provider = w.provider and m.version = w.version and m.settings = w.settings
  `.execute(db);
  const ids: (string | undefined)[] = wanted.map(() => undefined);
  for (const row of rows) ids[row.i] = row.id;
  return ids;
}

/** The model a call played, registered on first sight (as active) when no admin registered it before. */
export async function ensureModel(
  db: Db,
  m: { provider: string; version: string; settings: ModelSettingsJson },
): Promise<string> {
  const settings = normaliseSettings(m.settings);
  const inserted = await insertModel(db, { ...m, settings, status: "active" });
  if (inserted) return inserted.id;
  const found = await db
    .selectFrom("models")
    .select("id")
    .where("provider", "=", m.provider)
    .where("version", "=", m.version)
    .where("settings", "=", sql<ModelSettingsJson>`${JSON.stringify(settings)}::text::jsonb`)
    .executeTakeFirstOrThrow();
  return found.id;
}

export async function listModels(db: Db): Promise<ModelRow[]> {
  return db
    .selectFrom("models")
    .selectAll()
    .orderBy("provider")
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

export async function findModelsByIds(db: Db, ids: readonly string[]): Promise<ModelRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("models")
    .selectAll()
    .where("id", "in", [...new Set(ids)])
    .execute();
}

export async function lockModel(db: Db, id: string): Promise<ModelRow | undefined> {
  return db.selectFrom("models").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

export async function setModelStatus(db: Db, id: string, status: ModelStatus): Promise<ModelRow> {
  return db
    .updateTable("models")
    .set({ status, updated_at: sql`now()` })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** postgres.js would send a JS array as a PostgreSQL array: JSON text cast to jsonb instead. */
const jsonb = (value: BucketRange[]) => sql<BucketRange[]>`${JSON.stringify(value)}::text::jsonb`;

export type NewVariant = Omit<VariantRow, "experiment_id">;

/** Undefined when another experiment is running (the one-running unique index). */
export async function insertExperiment(
  db: Db,
  e: { id: string; name: string },
  variants: readonly NewVariant[],
): Promise<ExperimentWithVariants | undefined> {
  const row = await db
    .insertInto("experiments")
    .values({ id: e.id, name: e.name, status: "running" })
    .onConflict((oc) => oc.expression(sql`(true)`).where("status", "=", "running").doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  const inserted = await db
    .insertInto("experiment_variants")
    .values(variants.map((v) => ({ ...v, experiment_id: e.id, buckets: jsonb(v.buckets) })))
    .returningAll()
    .execute();
  return { ...row, variants: inserted.sort((a, b) => a.position - b.position) };
}

async function withVariants(db: Db, rows: ExperimentRow[]): Promise<ExperimentWithVariants[]> {
  if (rows.length === 0) return [];
  const variants = await db
    .selectFrom("experiment_variants")
    .selectAll()
    .where(
      "experiment_id",
      "in",
      rows.map((r) => r.id),
    )
    .orderBy("position")
    .execute();
  return rows.map((r) => ({ ...r, variants: variants.filter((v) => v.experiment_id === r.id) }));
}

export async function findRunningExperiment(db: Db): Promise<ExperimentWithVariants | undefined> {
  const row = await db
    .selectFrom("experiments")
    .selectAll()
    .where("status", "=", "running")
    .executeTakeFirst();
  return row ? (await withVariants(db, [row]))[0] : undefined;
}

export async function findExperiment(
  db: Db,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<ExperimentWithVariants | undefined> {
  let query = db.selectFrom("experiments").selectAll().where("id", "=", id);
  if (opts.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row ? (await withVariants(db, [row]))[0] : undefined;
}

export async function listExperiments(db: Db): Promise<ExperimentWithVariants[]> {
  const rows = await db
    .selectFrom("experiments")
    .selectAll()
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .execute();
  return withVariants(db, rows);
}

export async function updateVariantLayout(
  db: Db,
  experimentId: string,
  key: string,
  layout: { weight: number; buckets: BucketRange[] },
): Promise<void> {
  await db
    .updateTable("experiment_variants")
    .set({ weight: layout.weight, buckets: jsonb(layout.buckets) })
    .where("experiment_id", "=", experimentId)
    .where("key", "=", key)
    .execute();
  await db
    .updateTable("experiments")
    .set({ updated_at: sql`now()` })
    .where("id", "=", experimentId)
    .execute();
}

export async function stopExperiment(db: Db, id: string): Promise<void> {
  await db
    .updateTable("experiments")
    .set({ status: "stopped", stopped_at: sql`now()`, updated_at: sql`now()` })
    .where("id", "=", id)
    .execute();
}
