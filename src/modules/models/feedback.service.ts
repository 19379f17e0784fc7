import { sql } from "kysely";
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import type { Feedback } from "./models.schemas.ts";
import { variantLabel } from "./variant-metrics.ts";

type Caller = { userId: string; actor: AuditActor; clientKey: string };

/**
 * The owner's verdict on an identification, the ground truth of the performance report. One per
 * identification: sending again replaces it. What the user was shown and the species the plant really is are
 * stored with it, so the report can judge every model's answer (shadow ones too) against it.
 */
export function createFeedbackService(deps: Pick<Deps, "db" | "metrics">) {
  return {
    async give(
      caller: Caller,
      identificationId: string,
      input: { correct: boolean; speciesId?: string },
    ): Promise<{ feedback: Feedback; created: boolean }> {
      const result = await deps.db.primary.transaction().execute(async (trx) => {
        const identification = await trx
          .selectFrom("identifications")
          .select(["id", "status", "result", "variant"])
          .where("id", "=", identificationId)
          .where("user_id", "=", caller.userId)
          .where("deleted_at", "is", null)
          .forUpdate()
          .executeTakeFirst();
        if (!identification) throw new AppError("not_found", "No identification with this id.");
        if (identification.status !== "completed")
          throw new AppError("conflict", "The identification has no result yet to give feedback on.");
        const shown =
          (identification.result as { suggestions?: { scientificName?: string }[] } | null)?.suggestions?.[0]
            ?.scientificName ?? null;
        let truth = input.correct ? shown : null;
        if (input.speciesId) {
          const species = await trx
            .selectFrom("species")
            .select("scientific_name")
            .where("id", "=", input.speciesId)
            .executeTakeFirst();
          if (!species)
            throw new AppError("unknown_species", "No species with this speciesId in the catalogue.");
          truth = species.scientific_name;
        }
        const row = await trx
          .insertInto("identification_feedback")
          .values({
            identification_id: identificationId,
            user_id: caller.userId,
            correct: input.correct,
            species_id: input.speciesId ?? null,
            truth_name: truth,
            shown_name: shown,
          })
          .onConflict((oc) =>
            oc.column("identification_id").doUpdateSet({
              correct: input.correct,
              species_id: input.speciesId ?? null,
              truth_name: truth,
              shown_name: shown,
              updated_at: sql`now()`,
            }),
          )
          .returning([
            "identification_id",
            "correct",
            "species_id",
            "created_at",
            "updated_at",
            sql<boolean>`xmax = 0`.as("inserted"),
          ])
          .executeTakeFirstOrThrow();
        await recordAudit(trx, caller.actor, {
          action: "identification.feedback",
          entityType: "identification",
          entityId: identificationId,
          after: { correct: input.correct, speciesId: input.speciesId ?? null },
        });
        return { row, variant: identification.variant };
      });
      await deps.db.markWrite(caller.clientKey);
      deps.metrics.models.feedback.inc({
        variant: variantLabel(result.variant),
        correct: String(input.correct),
      });
      const { row } = result;
      return {
        created: row.inserted,
        feedback: {
          identificationId: row.identification_id,
          correct: row.correct,
          speciesId: row.species_id,
          createdAt: new Date(row.created_at).toISOString(),
          updatedAt: new Date(row.updated_at).toISOString(),
        },
      };
    },
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
