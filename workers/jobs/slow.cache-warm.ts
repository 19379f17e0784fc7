import { mostRequestedSpecies } from "../../src/modules/jobs/popular-species.repo.ts";
import { listFamilies } from "../../src/modules/species/species.repo.ts";
import { SpeciesListQuerySchema } from "../../src/modules/species/species.schemas.ts";
import { CATALOGUE_WRITER } from "../../src/modules/species/species.service.ts";
import type { JobDefinition } from "../job-types.ts";

/** How many family filters get their first page warmed: the catalogue's largest families. */
const WARM_FAMILIES = 20;
// Only the cached pages matter here; their links are made per request.

/**
 * slow lane, scheduled: fills the species cache for the most requested species, and the first list page
 * (unfiltered and per large family), through the same single-flight path as the API, so a warm run and a
 * user request never both load the same entry.
 */
export const cacheWarm: JobDefinition<"cache.warm"> = {
  async run(deps, payload, ctx) {
    const ids = await deps.db.read(undefined, (db) =>
      mostRequestedSpecies(db, payload.topN ?? deps.config.jobs.cacheWarmTopN),
    );
    const species = deps.services.species;
    let warmed = 0;
    for (const id of ids) {
      ctx.signal.throwIfAborted();
      await species.getSpeciesJson(id, "job:cache.warm").then(
        () => warmed++,
        (err: unknown) => ctx.logger.warn({ speciesId: id, err: String(err) }, "species not warmed"),
      );
    }
    const families = await deps.db.read(CATALOGUE_WRITER, (db) => listFamilies(db, WARM_FAMILIES));
    let warmedLists = 0;
    for (const family of [undefined, ...families]) {
      ctx.signal.throwIfAborted();
      const query = SpeciesListQuerySchema.safeParse(family ? { family } : {});
      if (!query.success) continue; // a family name the public filter would refuse is never requested
      await species.listSpecies(query.data, "job:cache.warm").then(
        () => warmedLists++,
        (err: unknown) => ctx.logger.warn({ family, err: String(err) }, "species list not warmed"),
      );
    }
    ctx.logger.info({ warmed, warmedLists, candidates: ids.length }, "species cache warmed");
    return { warmed, warmedLists };
  },
};
