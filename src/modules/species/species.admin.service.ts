import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import {
  insertSpecies,
  lockSpeciesById,
  type NewSpecies,
  replaceSpecies,
  type SpeciesRow,
} from "./species.repo.ts";
import type { CreateSpecies, Species, UpdateSpecies } from "./species.schemas.ts";
import { CATALOGUE_WRITER, type SpeciesService, toSpeciesDto } from "./species.service.ts";

const capitalised = (v: string) => v.charAt(0).toUpperCase() + v.slice(1).toLowerCase();

function toNewSpecies(input: CreateSpecies): NewSpecies {
  return {
    scientificName: input.scientificName,
    commonNames: input.commonNames,
    family: capitalised(input.family),
    genus: capitalised(input.genus),
    category: input.category.toLowerCase(),
    care: input.careInstructions,
  };
}

function fromRow(row: SpeciesRow): CreateSpecies {
  return {
    scientificName: row.scientific_name,
    commonNames: row.common_names,
    family: row.family,
    genus: row.genus,
    category: row.category,
    careInstructions: row.care,
  };
}

/**
 * Catalogue edits by admins: on the primary, audited in the same transaction; then the catalogue's write marker
 * (cache fills read past it) and the cache tags of the species and of every list page are dropped fleet-wide.
 */
export function createSpeciesAdminService(deps: Pick<Deps, "db">, species: SpeciesService) {
  return {
    async createSpecies(input: CreateSpecies, actor: AuditActor, clientKey: string): Promise<Species> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const created = await insertSpecies(trx, toNewSpecies(input));
        if (!created) throw new AppError("conflict", "A species with this scientific name already exists.");
        await recordAudit(trx, actor, {
          action: "species.create",
          entityType: "species",
          entityId: created.id,
          after: fromRow(created),
        });
        return created;
      });
      await Promise.all([deps.db.markWrite(clientKey), deps.db.markWrite(CATALOGUE_WRITER)]);
      await species.invalidate(row.id);
      return toSpeciesDto(row);
    },

    async updateSpecies(
      id: string,
      patch: UpdateSpecies,
      actor: AuditActor,
      clientKey: string,
    ): Promise<Species> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const current = await lockSpeciesById(trx, id);
        if (!current) throw new AppError("not_found", "No species with this id.");
        const before = fromRow(current);
        const next = { ...before, ...patch };
        let updated: SpeciesRow;
        try {
          updated = await replaceSpecies(trx, id, toNewSpecies(next));
        } catch (err) {
          if ((err as { code?: string }).code === "23505") {
            throw new AppError("conflict", "A species with this scientific name already exists.");
          }
          throw err;
        }
        await recordAudit(trx, actor, {
          action: "species.update",
          entityType: "species",
          entityId: id,
          before,
          after: fromRow(updated),
        });
        return updated;
      });
      await Promise.all([deps.db.markWrite(clientKey), deps.db.markWrite(CATALOGUE_WRITER)]);
      await species.invalidate(id);
      return toSpeciesDto(row);
    },
  };
}

export type SpeciesAdminService = ReturnType<typeof createSpeciesAdminService>;
