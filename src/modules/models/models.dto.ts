import type { ModelSettingsJson } from "../../db/schema-models.ts";
import type { ExperimentWithVariants, ModelRow } from "./models.repo.ts";
import type { Experiment, Model } from "./models.schemas.ts";

const iso = (d: Date | string) => new Date(d).toISOString();

export function toModelDto(row: ModelRow): Model {
  return {
    id: row.id,
    provider: row.provider as Model["provider"],
    version: row.version,
    settings: row.settings as ModelSettingsJson,
    status: row.status,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function toExperimentDto(row: ExperimentWithVariants): Experiment {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    variants: row.variants.map((v) => ({
      key: v.key,
      control: v.is_control,
      weight: v.weight,
      buckets: v.buckets,
      models: v.model_ids,
      shadowModels: v.shadow_model_ids,
      merge: v.merge,
    })),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    stoppedAt: row.stopped_at ? iso(row.stopped_at) : null,
  };
}
