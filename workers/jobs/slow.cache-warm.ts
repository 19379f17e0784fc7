import { mostRequestedSpecies } from "../../src/modules/jobs/popular-species.repo.ts";
import { createSpeciesService } from "../../src/modules/species/species.service.ts";
import type { JobDefinition } from "../job-types.ts";

/**
 * slow lane, scheduled: fills the species cache for the most requested species through the same
 * single-flight path as the API, so a warm run and a user request never both load the same entry.
 */
export const cacheWarm: JobDefinition<"cache.warm"> = {
  async run(deps, payload, ctx) {
    const ids = await deps.db.read(undefined, (db) =>
      mostRequestedSpecies(db, payload.topN ?? deps.config.jobs.cacheWarmTopN),
    );
    const species = createSpeciesService(deps);
    let warmed = 0;
    for (const id of ids) {
      ctx.signal.throwIfAborted();
      await species.getSpeciesJson(id, "job:cache.warm").then(
        () => warmed++,
        (err: unknown) => ctx.logger.warn({ speciesId: id, err: String(err) }, "species not warmed"),
      );
    }
    ctx.logger.info({ warmed, candidates: ids.length }, "species cache warmed");
    return { warmed };
  },
};
