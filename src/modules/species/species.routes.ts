import { createRoute } from "@hono/zod-openapi";
import { PUBLIC_CATALOGUE, publicRoute } from "../../http/cache-policy.ts";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import {
  CreateSpeciesSchema,
  SpeciesListQuerySchema,
  SpeciesPageSchema,
  SpeciesSchema,
  UpdateSpeciesSchema,
} from "./species.schemas.ts";

export const listSpeciesRoute = createRoute({
  method: "get",
  path: "/species",
  operationId: "listSpecies",
  tags: ["Species"],
  summary: "Browse and search the species catalogue",
  description:
    "Ordered by scientific name, then id. Follow `links.next` (or pass `nextCursor`) for the next page.",
  ...publicRoute(PUBLIC_CATALOGUE),
  request: { query: SpeciesListQuerySchema },
  responses: {
    200: {
      description: "A page of species.",
      content: { "application/json": { schema: SpeciesPageSchema } },
    },
    ...errorResponses(400),
  },
});

export const getSpeciesRoute = createRoute({
  method: "get",
  path: "/species/{id}",
  operationId: "getSpecies",
  tags: ["Species"],
  summary: "One species with its care instructions",
  description:
    "Public and cacheable for 5 minutes; revalidate with the `ETag` in `If-None-Match` (304 when unchanged).",
  ...publicRoute(PUBLIC_CATALOGUE),
  request: { params: UuidParamSchema },
  responses: {
    200: { description: "The species.", content: { "application/json": { schema: SpeciesSchema } } },
    ...errorResponses(400, 404),
  },
});

export const createSpeciesRoute = createRoute({
  method: "post",
  path: "/species",
  operationId: "createSpecies",
  tags: ["Species"],
  summary: "Add a species to the catalogue (admin)",
  description: "Scientific names are unique (409 `conflict`). The new species is readable at once.",
  ...protect("species:write"),
  request: { body: { required: true, content: { "application/json": { schema: CreateSpeciesSchema } } } },
  responses: {
    201: {
      description: "Created; readable at once by the same client.",
      headers: { Location: { schema: { type: "string" }, description: "The new species." } },
      content: { "application/json": { schema: SpeciesSchema } },
    },
    ...errorResponses(400, 401, 403, 409, 415),
  },
});

export const updateSpeciesRoute = createRoute({
  method: "patch",
  path: "/species/{id}",
  operationId: "updateSpecies",
  tags: ["Species"],
  summary: "Change a species (admin)",
  description: "Only the fields sent change. The cached species is refreshed at once.",
  ...protect("species:write"),
  request: {
    params: UuidParamSchema,
    body: { required: true, content: { "application/json": { schema: UpdateSpeciesSchema } } },
  },
  responses: {
    200: { description: "The updated species.", content: { "application/json": { schema: SpeciesSchema } } },
    ...errorResponses(400, 401, 403, 404, 409, 415),
  },
});
