import { createRoute } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { SpeciesListQuerySchema, SpeciesPageSchema, SpeciesSchema } from "./species.schemas.ts";

export const listSpeciesRoute = createRoute({
  method: "get",
  path: "/species",
  operationId: "listSpecies",
  tags: ["Species"],
  summary: "Browse and search the species catalogue",
  description: "Ordered by scientific name, then id. Follow `links.next` (or pass `nextCursor`) for the next page.",
  security: [],
  request: { query: SpeciesListQuerySchema },
  responses: {
    200: { description: "A page of species.", content: { "application/json": { schema: SpeciesPageSchema } } },
    ...errorResponses(400),
  },
});

export const getSpeciesRoute = createRoute({
  method: "get",
  path: "/species/{id}",
  operationId: "getSpecies",
  tags: ["Species"],
  summary: "One species with its care instructions",
  security: [],
  request: { params: UuidParamSchema },
  responses: {
    200: { description: "The species.", content: { "application/json": { schema: SpeciesSchema } } },
    ...errorResponses(400, 404),
  },
});
