import type { Insertable } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { CallRole, IdentificationModelCallsTable } from "../../db/schema-models.ts";
import type { Logger } from "../../infra/logger.ts";
import type { Metrics } from "../../infra/metrics.ts";
import type { CallRecord } from "../../infra/providers/identify-contract.ts";
import type { PlantIdHealth, PlantIdIdentification } from "../../infra/providers/plant-id.ts";
import type { PlantNetResult } from "../../infra/providers/plantnet.ts";
import { ensureModel, findModelIds, type ModelKey } from "./models.repo.ts";
import { variantLabel } from "./variant-metrics.ts";

type Summary = {
  version: string | null;
  confidence: number | null;
  topName: string | null;
  metadata: Record<string, unknown>;
};

/** The model version the provider reported, its top suggestion and what else the report may want. */
function summarise(call: CallRecord): Summary {
  const value = call.answer.value;
  const base = { cached: call.answer.cached, ...(call.answer.reason ? { reason: call.answer.reason } : {}) };
  if (value === undefined) return { version: null, confidence: null, topName: null, metadata: base };
  if (call.wire === "plant-id") {
    const v = value as PlantIdIdentification;
    const top = v.suggestions[0];
    return {
      version: v.modelVersion,
      confidence: top?.probability ?? null,
      topName: top?.scientificName ?? null,
      metadata: { ...base, isPlant: v.isPlant.binary, suggestions: v.suggestions.length },
    };
  }
  if (call.wire === "plantnet") {
    const v = value as PlantNetResult;
    if (v.status === "no_match") return { version: null, confidence: null, topName: null, metadata: base };
    const top = v.results[0];
    return {
      version: `plantnet:${v.version}`,
      confidence: top?.score ?? null,
      topName: top?.scientificName ?? null,
      metadata: { ...base, suggestions: v.results.length },
    };
  }
  const h = value as PlantIdHealth;
  return {
    version: null,
    confidence: h.isHealthy.probability,
    topName: null,
    metadata: { ...base, isHealthy: h.isHealthy.binary, diseases: h.diseases.length },
  };
}

const roleOf = (call: CallRecord): CallRole =>
  call.shadow ? "shadow" : call.wire === "plant-id-health" ? "health" : "answer";

/** An identification_model_calls row, its model resolved. */
export type ModelCallRow = Insertable<IdentificationModelCallsTable>;

/**
 * One row per provider call of an identification: model (registered on first sight), reported version,
 * confidence, top suggestion, latency and outcome. Models are never removed, so the rows may be made before the
 * identification's transaction (outside it: one round trip less inside, and it can run beside other reads).
 */
export async function modelCallRows(
  db: Db,
  identificationId: string,
  calls: readonly CallRecord[],
): Promise<ModelCallRow[]> {
  if (calls.length === 0) return [];
  const summaries = calls.map(summarise);
  // Models seen before (nearly always) are found in one query; only a model seen for the first time costs the
  // insert-or-find of ensureModel.
  const keyOf = (call: CallRecord, s: Summary): ModelKey | undefined =>
    call.modelId === undefined && s.version
      ? { provider: call.provider, version: s.version, settings: call.settings }
      : undefined;
  const wanted = calls.flatMap((call, i) => keyOf(call, summaries[i]!) ?? []);
  const found = await findModelIds(db, wanted);
  const rows: ModelCallRow[] = [];
  let next = 0;
  for (const [i, call] of calls.entries()) {
    const s = summaries[i]!;
    const key = keyOf(call, s);
    const modelId = key ? (found[next++] ?? (await ensureModel(db, key))) : (call.modelId ?? null);
    rows.push({
      id: Bun.randomUUIDv7(),
      identification_id: identificationId,
      model_id: modelId,
      provider: call.provider,
      model_version: s.version,
      role: roleOf(call),
      outcome: call.answer.status,
      cached: call.answer.cached,
      confidence: s.confidence,
      top_name: s.topName,
      latency_ms: call.latencyMs,
      metadata: s.metadata,
    });
  }
  return rows;
}

/** Writes the rows (inside the identification's transaction when given one). */
export async function insertModelCalls(db: Db, rows: readonly ModelCallRow[]): Promise<void> {
  await modelCallsInsert(db, rows)?.execute();
}

/** The rows' INSERT, not run (none without rows): for a write that sends it with its own rows. */
export function modelCallsInsert(db: Db, rows: readonly ModelCallRow[]) {
  return rows.length > 0 ? db.insertInto("identification_model_calls").values([...rows]) : undefined;
}

/** modelCallRows then insertModelCalls, on one connection or transaction. */
export async function recordModelCalls(
  db: Db,
  identificationId: string,
  calls: readonly CallRecord[],
): Promise<void> {
  await insertModelCalls(db, await modelCallRows(db, identificationId, calls));
}

/**
 * Shadow calls finish after the user's answer: their rows are written when they do. Failures are logged only —
 * a lost comparison never affects an identification.
 */
export function recordShadowsLater(
  deps: { db: Db; logger: Logger; metrics: Metrics },
  identificationId: string,
  shadows: Promise<CallRecord[]>,
  variant: string | null,
): Promise<void> {
  return shadows
    .then(async (calls) => {
      for (const call of calls)
        deps.metrics.models.calls.inc({
          variant: variantLabel(variant),
          role: "shadow",
          outcome: call.answer.status,
        });
      await recordModelCalls(deps.db, identificationId, calls);
    })
    .catch((err) =>
      deps.logger.warn({ err: String(err), identificationId }, "shadow model calls not recorded"),
    );
}
