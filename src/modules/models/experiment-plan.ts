import type { Db } from "../../db/connect.ts";
import type { ModelSettingsJson } from "../../db/schema-models.ts";
import type { CallSpec, IdentifyPlan } from "../../infra/providers/identify-contract.ts";
import { isProviderName } from "../../infra/providers/registry.ts";
import { bucketOf, variantOfBucket } from "./assignment.ts";
import {
  type ExperimentWithVariants,
  findExperiment,
  findModelsByIds,
  findRunningExperiment,
  type VariantRow,
} from "./models.repo.ts";

export type MergeMode = VariantRow["merge"];

/** What an identification runs: its experiment and variant (if any), the provider calls and how to merge. */
export type Assignment = {
  experimentId: string | null;
  variant: string | null;
  plan: IdentifyPlan | undefined;
  merge: MergeMode;
};

export const NO_EXPERIMENT: Assignment = {
  experimentId: null,
  variant: null,
  plan: undefined,
  merge: "combined",
};

async function planOfVariant(db: Db, variant: VariantRow): Promise<IdentifyPlan> {
  const models = new Map(
    (await findModelsByIds(db, [...variant.model_ids, ...variant.shadow_model_ids])).map((m) => [m.id, m]),
  );
  const spec = (id: string, shadow: boolean): CallSpec[] => {
    const model = models.get(id);
    if (!model || !isProviderName(model.provider)) return [];
    return [
      { provider: model.provider, settings: model.settings as ModelSettingsJson, modelId: model.id, shadow },
    ];
  };
  return {
    calls: [
      ...variant.model_ids.flatMap((id) => spec(id, false)),
      ...variant.shadow_model_ids.flatMap((id) => spec(id, true)),
    ],
  };
}

async function assignIn(db: Db, experiment: ExperimentWithVariants, userId: string): Promise<Assignment> {
  const variant = variantOfBucket(experiment.variants, bucketOf(experiment.id, userId));
  if (!variant) return NO_EXPERIMENT;
  return {
    experimentId: experiment.id,
    variant: variant.key,
    plan: await planOfVariant(db, variant),
    merge: variant.merge,
  };
}

/**
 * The running experiment's variant for this user (sticky: the same user always gets the same variant while
 * the weights do not move their bucket), or no experiment. Read on the primary: an experiment an admin just
 * started applies to the next identification, whatever the replica's lag.
 */
export async function assignIdentification(db: Db, userId: string): Promise<Assignment> {
  const experiment = await findRunningExperiment(db);
  return experiment ? assignIn(db, experiment, userId) : NO_EXPERIMENT;
}

/** A queued identification keeps the variant it was given; with none, it is assigned now. */
export async function assignmentOf(
  db: Db,
  row: { user_id: string; experiment_id: string | null; variant: string | null },
): Promise<Assignment> {
  if (!row.experiment_id || !row.variant) return assignIdentification(db, row.user_id);
  const experiment = await findExperiment(db, row.experiment_id);
  const variant = experiment?.variants.find((v) => v.key === row.variant);
  if (!experiment || !variant) return NO_EXPERIMENT;
  return {
    experimentId: experiment.id,
    variant: variant.key,
    plan: await planOfVariant(db, variant),
    merge: variant.merge,
  };
}
