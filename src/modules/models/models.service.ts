import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { BUCKETS, initialBuckets, rebalance } from "./assignment.ts";
import { toExperimentDto, toModelDto } from "./models.dto.ts";
import {
  findExperiment,
  findModelsByIds,
  insertExperiment,
  insertModel,
  listExperiments,
  listModels,
  lockModel,
  type NewVariant,
  setModelStatus,
  stopExperiment,
  updateVariantLayout,
} from "./models.repo.ts";
import type { CreateExperiment, CreateModel, Experiment, Model } from "./models.schemas.ts";

type Admin = { actor: AuditActor; clientKey: string };

function checkVariants(input: CreateExperiment): void {
  const keys = new Set(input.variants.map((v) => v.key));
  if (keys.size !== input.variants.length)
    throw new AppError("invalid_experiment", "Variant keys must be unique.");
  if (input.variants.filter((v) => v.control).length !== 1)
    throw new AppError("invalid_experiment", "Exactly one variant must be the control.");
  const total = input.variants.reduce((n, v) => n + v.weight, 0);
  if (total !== BUCKETS)
    throw new AppError("invalid_experiment", `The weights must sum to ${BUCKETS} (they sum to ${total}).`);
}

/** Model registry and experiments: admin only, on the primary, each change audited in its transaction. */
export function createModelsService(deps: Pick<Deps, "db">) {
  return {
    async listModels(): Promise<Model[]> {
      return (await deps.db.readCurrent((db) => listModels(db))).map(toModelDto);
    },

    async registerModel(input: CreateModel, admin: Admin): Promise<Model> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const created = await insertModel(trx, input);
        if (!created)
          throw new AppError(
            "conflict",
            "A model with this provider, version and settings is already registered.",
          );
        await recordAudit(trx, admin.actor, {
          action: "model.register",
          entityType: "model",
          entityId: created.id,
          after: {
            provider: created.provider,
            version: created.version,
            settings: created.settings,
            status: created.status,
          },
        });
        return created;
      });
      await deps.db.markWrite(admin.clientKey);
      return toModelDto(row);
    },

    async updateModel(id: string, status: Model["status"], admin: Admin): Promise<Model> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const before = await lockModel(trx, id);
        if (!before) throw new AppError("not_found", "No model with this id.");
        const after = await setModelStatus(trx, id, status);
        await recordAudit(trx, admin.actor, {
          action: "model.update",
          entityType: "model",
          entityId: id,
          before: { status: before.status },
          after: { status: after.status },
        });
        return after;
      });
      await deps.db.markWrite(admin.clientKey);
      return toModelDto(row);
    },

    async listExperiments(): Promise<Experiment[]> {
      return (await deps.db.readCurrent((db) => listExperiments(db))).map(toExperimentDto);
    },

    async getExperiment(id: string): Promise<Experiment> {
      const row = await deps.db.readCurrent((db) => findExperiment(db, id));
      if (!row) throw new AppError("not_found", "No experiment with this id.");
      return toExperimentDto(row);
    },

    /** Starts at once; only one experiment runs at a time (409 experiment_running). */
    async createExperiment(input: CreateExperiment, admin: Admin): Promise<Experiment> {
      checkVariants(input);
      const layout = initialBuckets(input.variants);
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const models = new Map(
          (
            await findModelsByIds(
              trx,
              input.variants.flatMap((v) => [...v.models, ...v.shadowModels]),
            )
          ).map((m) => [m.id, m]),
        );
        for (const v of input.variants) {
          for (const id of v.models) {
            const m = models.get(id);
            if (!m) throw new AppError("invalid_experiment", `Variant ${v.key}: no model ${id}.`);
            if (m.status !== "active")
              throw new AppError(
                "invalid_experiment",
                `Variant ${v.key}: model ${id} is ${m.status}, not active.`,
              );
          }
          for (const id of v.shadowModels) {
            const m = models.get(id);
            if (!m) throw new AppError("invalid_experiment", `Variant ${v.key}: no model ${id}.`);
            if (m.status === "retired")
              throw new AppError("invalid_experiment", `Variant ${v.key}: model ${id} is retired.`);
          }
        }
        const variants: NewVariant[] = input.variants.map((v, position) => ({
          key: v.key,
          position,
          is_control: v.control,
          weight: v.weight,
          buckets: layout[position]!.buckets,
          model_ids: v.models,
          shadow_model_ids: v.shadowModels,
          merge: v.merge,
        }));
        const created = await insertExperiment(trx, { id: Bun.randomUUIDv7(), name: input.name }, variants);
        if (!created)
          throw new AppError("experiment_running", "Another experiment is running; stop it first.");
        await recordAudit(trx, admin.actor, {
          action: "experiment.create",
          entityType: "experiment",
          entityId: created.id,
          after: { name: input.name, variants: input.variants },
        });
        return created;
      });
      await deps.db.markWrite(admin.clientKey);
      return toExperimentDto(row);
    },

    /** New weights; only the users in the buckets that change hands move (assignment.ts rebalance). */
    async changeWeights(id: string, weights: Record<string, number>, admin: Admin): Promise<Experiment> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const experiment = await findExperiment(trx, id, { lock: true });
        if (!experiment) throw new AppError("not_found", "No experiment with this id.");
        if (experiment.status !== "running")
          throw new AppError("experiment_stopped", "The experiment is stopped.");
        const unknown = Object.keys(weights).filter((k) => !experiment.variants.some((v) => v.key === k));
        if (unknown.length) throw new AppError("invalid_experiment", `No variant ${unknown.join(", ")}.`);
        const next = new Map(experiment.variants.map((v) => [v.key, weights[v.key] ?? v.weight]));
        const total = [...next.values()].reduce((n, w) => n + w, 0);
        if (total !== BUCKETS)
          throw new AppError(
            "invalid_experiment",
            `The weights must sum to ${BUCKETS} (they sum to ${total}).`,
          );
        const layout = rebalance(experiment.variants, next);
        for (const v of layout)
          await updateVariantLayout(trx, id, v.key, { weight: next.get(v.key)!, buckets: v.buckets });
        await recordAudit(trx, admin.actor, {
          action: "experiment.change",
          entityType: "experiment",
          entityId: id,
          before: { weights: Object.fromEntries(experiment.variants.map((v) => [v.key, v.weight])) },
          after: { weights: Object.fromEntries(next) },
        });
        return (await findExperiment(trx, id))!;
      });
      await deps.db.markWrite(admin.clientKey);
      return toExperimentDto(row);
    },

    async stop(id: string, admin: Admin): Promise<Experiment> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const experiment = await findExperiment(trx, id, { lock: true });
        if (!experiment) throw new AppError("not_found", "No experiment with this id.");
        if (experiment.status !== "running")
          throw new AppError("experiment_stopped", "The experiment is already stopped.");
        await stopExperiment(trx, id);
        await recordAudit(trx, admin.actor, {
          action: "experiment.stop",
          entityType: "experiment",
          entityId: id,
          before: { status: "running" },
          after: { status: "stopped" },
        });
        return (await findExperiment(trx, id))!;
      });
      await deps.db.markWrite(admin.clientKey);
      return toExperimentDto(row);
    },
  };
}

export type ModelsService = ReturnType<typeof createModelsService>;
