import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { AppEnv } from "../../http/context.ts";
import {
  countLegacySpecies,
  findLegacySpecies,
  type LegacySpeciesFilter,
  listLegacySpecies,
} from "./legacy-species.repo.ts";

/** The old server's page size (Django REST framework PAGE_SIZE). */
export const LEGACY_PAGE_SIZE = 20;

const ListQuery = z.object({
  search: z.string().trim().max(100).optional(),
  family: z.string().trim().max(100).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});

type Row = Awaited<ReturnType<typeof listLegacySpecies>>[number];
const toLegacy = (r: Row) => ({
  id: r.id,
  scientific_name: r.scientific_name,
  common_names: r.common_names,
  family: r.family,
  genus: r.genus,
});

// Django answered an unknown page or id with 404 `{"detail": ...}`; a problem document carries `detail` too.
const notFound = (detail: string) => new AppError("not_found", detail);

export function legacySpeciesHandlers(deps: Deps, originOf: (c: Context<AppEnv>) => string) {
  return {
    async list(c: Context<AppEnv>) {
      const parsed = ListQuery.safeParse(c.req.query());
      if (!parsed.success) throw notFound("Invalid page.");
      const { page, search, family } = parsed.data;
      const filter: LegacySpeciesFilter = {
        search: search || undefined,
        family: family || undefined,
        offset: (page - 1) * LEGACY_PAGE_SIZE,
        limit: LEGACY_PAGE_SIZE,
      };
      const [count, rows] = await deps.db.read(c.var.clientKey, (db) =>
        Promise.all([countLegacySpecies(db, filter), listLegacySpecies(db, filter)]),
      );
      if (page > 1 && rows.length === 0) throw notFound("Invalid page.");
      const pageUrl = (n: number) => {
        const url = new URL(c.req.path, originOf(c));
        for (const [k, v] of Object.entries({ search, family })) if (v) url.searchParams.set(k, v);
        if (n > 1) url.searchParams.set("page", String(n));
        return url.toString();
      };
      return c.json({
        count,
        next: page * LEGACY_PAGE_SIZE < count ? pageUrl(page + 1) : null,
        previous: page > 1 ? pageUrl(page - 1) : null,
        results: rows.map(toLegacy),
      });
    },

    async get(c: Context<AppEnv>) {
      const id = c.req.param("id") ?? "";
      if (!z.string().uuid().safeParse(id).success) throw notFound("Not found.");
      const row = await deps.db.read(c.var.clientKey, (db) => findLegacySpecies(db, id));
      if (!row) throw notFound("Not found.");
      return c.json(toLegacy(row));
    },
  };
}
