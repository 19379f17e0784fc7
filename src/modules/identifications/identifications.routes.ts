import { createRoute, z } from "@hono/zod-openapi";
import { PRIVATE_REVALIDATE } from "../../http/cache-policy.ts";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect, protectWith } from "../../http/security.ts";
import { verifiedEmail } from "../auth/verified-email.ts";
import {
  IdempotencyHeaderSchema,
  IdentificationListQuerySchema,
  IdentificationPageSchema,
  IdentificationSchema,
  IdentificationUploadDoc,
} from "./identifications.schemas.ts";
import { providerBudget } from "./provider-budget.ts";

const tags = ["Identifications"];
const writer = protect("identifications:write");

export const createIdentificationRoute = createRoute({
  method: "post",
  path: "/identifications",
  operationId: "createIdentification",
  tags,
  summary: "Identify a plant from 1 to 5 photos",
  description:
    "Plant.id and PlantNet are asked in parallel (answers for the same photos are cached for 24 hours); their " +
    "suggestions are merged and ranked. The photos are validated before anything is stored or any provider is " +
    "called: at most 5 files, 10 MB each, 30 MB per request (413), JPEG/PNG/WebP by content (415), decodable " +
    "(400 `invalid_image`), 100 px to 50 megapixels (400). Stored copies carry no metadata (no GPS). An account " +
    "whose e-mail address is not confirmed makes a few identifications only (403 `email_unverified`). Each " +
    "user has a daily budget of provider calls by role (429 `provider_budget_exhausted` until midnight UTC).",
  ...writer,
  middleware: [...writer.middleware, verifiedEmail({ perRequest: 1 }), providerBudget()] as const,
  request: {
    headers: IdempotencyHeaderSchema,
    // Not a zod schema on purpose: the route then installs no validator that would buffer the whole body.
    body: { required: true, content: { "multipart/form-data": { schema: IdentificationUploadDoc } } },
  },
  responses: {
    201: {
      description: "Identified. A retry with the same Idempotency-Key answers the same identification again.",
      headers: {
        Location: { description: "The new identification.", schema: { type: "string" } },
        "Idempotent-Replayed": {
          description: "`true` when this is the stored answer to an earlier request.",
          schema: { type: "string" },
        },
      },
      content: { "application/json": { schema: IdentificationSchema } },
    },
    202: {
      description:
        "Accepted (`Prefer: respond-async`): the photos are stored and identified in the background. Poll " +
        "`Location` until `status` is `completed` or `failed`.",
      headers: {
        Location: { description: "The new identification.", schema: { type: "string" } },
        "Preference-Applied": { description: "`respond-async`.", schema: { type: "string" } },
      },
      content: { "application/json": { schema: IdentificationSchema } },
    },
    ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const listIdentificationsRoute = createRoute({
  method: "get",
  path: "/identifications",
  operationId: "listIdentifications",
  tags,
  summary: "Your identification history, newest first",
  description:
    "Filter by time, confidence or species; follow `links.next` for older pages. Private (`no-store`), with an " +
    "`ETag` an app keeping its own copy can revalidate with `If-None-Match`.",
  ...protectWith(PRIVATE_REVALIDATE, "identifications:read"),
  request: { query: IdentificationListQuerySchema },
  responses: {
    200: {
      description: "A page of your identifications.",
      content: { "application/json": { schema: IdentificationPageSchema } },
    },
    ...errorResponses(400, 401, 403),
  },
});

export const getIdentificationRoute = createRoute({
  method: "get",
  path: "/identifications/{id}",
  operationId: "getIdentification",
  tags,
  summary: "One of your identifications",
  description:
    "Poll it after `Prefer: respond-async` until `status` is `completed` or `failed`. Another user's " +
    "identification answers 404. Revalidate with `If-None-Match` (304 when unchanged).",
  ...protectWith(PRIVATE_REVALIDATE, "identifications:read"),
  request: { params: UuidParamSchema },
  responses: {
    200: {
      description: "The identification.",
      content: { "application/json": { schema: IdentificationSchema } },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

export const deleteIdentificationRoute = createRoute({
  method: "delete",
  path: "/identifications/{id}",
  operationId: "deleteIdentification",
  tags,
  summary: "Delete one of your identifications",
  description: "It leaves your history and its images stop being served.",
  ...protect("identifications:write"),
  request: { params: UuidParamSchema },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses(400, 401, 403, 404),
  },
});

const MediaParamsSchema = z.object({
  identificationId: z
    .string()
    .uuid()
    .openapi({
      param: { name: "identificationId", in: "path" },
      example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab",
    }),
  file: z
    .string()
    .regex(/^[0-9a-f-]{36}(\.thumb)?\.jpg$/, "an image file name from an identification")
    .openapi({
      param: { name: "file", in: "path" },
      example: "0190f5a2-7b1c-7d3e-8f00-1234567890ac.thumb.jpg",
    }),
});

export const getMediaRoute = createRoute({
  method: "get",
  path: "/media/identifications/{identificationId}/{file}",
  operationId: "getIdentificationImage",
  tags,
  summary: "A stored identification image or thumbnail",
  description:
    "The URLs in `images[]` point here unless a CDN serves the images. Public (the URL is the capability) and " +
    "immutable; 404 once the identification is deleted.",
  security: [],
  request: { params: MediaParamsSchema },
  responses: {
    200: {
      description: "The JPEG.",
      content: { "image/jpeg": { schema: { type: "string", format: "binary" } } },
    },
    ...errorResponses(400, 404),
  },
});
