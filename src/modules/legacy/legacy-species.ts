import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import type { AppEnv } from "../../http/context.ts";
import { LEGACY_PAGE_SIZE, type LegacySpeciesService } from "./legacy-species.service.ts";

const ListQuery = z.object({
  search: z.string().trim().max(100).optional(),
  family: z.string().trim().max(100).optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
});

// Django answered an unknown page or id with 404 `{"detail": ...}`; a problem document carries `detail` too.
const notFound = (detail: string) => new AppError("not_found", detail);

export function legacySpeciesHandlers(
  service: LegacySpeciesService,
  originOf: (c: Context<AppEnv>) => string,
) {
  return {
    async list(c: Context<AppEnv>) {
      const parsed = ListQuery.safeParse(c.req.query());
      if (!parsed.success) throw notFound("Invalid page.");
      const { page, search, family } = parsed.data;
      const { count, results } = await service.page(parsed.data, c.get("clientKey"));
      if (page > 1 && results.length === 0) throw notFound("Invalid page.");
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
        results,
      });
    },

    async get(c: Context<AppEnv>) {
      const id = c.req.param("id") ?? "";
      if (!z.string().uuid().safeParse(id).success) throw notFound("Not found.");
      const species = await service.get(id, c.get("clientKey"));
      if (!species) throw notFound("Not found.");
      return c.json(species);
    },
  };
}
