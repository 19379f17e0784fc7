import { createRoute, z } from "@hono/zod-openapi";
import { PRIVATE_REVALIDATE } from "../../http/cache-policy.ts";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect, protectWith } from "../../http/security.ts";
import { verifiedEmail } from "../auth/verified-email.ts";
import { IdentifyFromUploadsSchema } from "../uploads/uploads.schemas.ts";
import {
  IdempotencyHeaderSchema,
  IdentificationListQuerySchema,
  IdentificationPageSchema,
  IdentificationSchema,
  IdentificationUploadDoc,
} from "./identifications.schemas.ts";
import { providerBudget } from "./provider-budget.ts";
import { providersAvailable } from "./providers-available.ts";

const tags = ["Identifications"];
const writer = protect("identifications:write");
/** The routes that identify: the caller, then the providers' availability, then the account's own limits. */
const identifyPolicies = [
  ...writer.middleware,
  providersAvailable(),
  verifiedEmail({ perRequest: 1 }),
  providerBudget(),
];

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
    "user has a daily budget of provider calls by role (429 `provider_budget_exhausted` until midnight UTC). " +
    "Or send JSON `{uploadIds, organs, latitude, longitude, includeHealth}` naming photos uploaded before with " +
    "`POST /v1/uploads` (schema `IdentifyFromUploads`; `Content-Type: application/json`): each is checked the same way before any provider is asked (the same codes; 422 " +
    "`upload_unavailable` when not yours, expired or used, 409 `upload_incomplete` when not received), a " +
    "refused upload is deleted, and used uploads are removed once their photos are stored.",
  ...writer,
  middleware: identifyPolicies,
  request: {
    headers: IdempotencyHeaderSchema,
    // Not a zod schema on purpose: the route then installs no validator that would buffer the whole body. The
    // JSON form (upload ids) is read by its own reader (identifications.upload-ids.ts) and documented in the
    // description and components, not as a second media type here: client generators (hey-api) build the
    // operation from the JSON body whenever one is listed, and regenerated SDKs would lose their multipart call.
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

/**
 * The same identification from photos uploaded before (POST /v1/uploads), as an operation of its own with a JSON
 * body: generated SDKs get a typed call for it, and keep their multipart call for createIdentification.
 */
export const createIdentificationFromUploadsRoute = createRoute({
  method: "post",
  path: "/identifications/from-uploads",
  operationId: "createIdentificationFromUploads",
  tags,
  summary: "Identify a plant from 1 to 5 photos uploaded with POST /v1/uploads",
  description:
    "Each upload is checked before any provider is asked, as multipart photos are (the same codes); 422 " +
    "`upload_unavailable` when it is not yours, expired or used, 409 `upload_incomplete` when it was not " +
    "received. A refused upload is deleted; used uploads are removed once their photos are stored. Idempotency, " +
    "`Prefer: respond-async`, budgets and answers are those of createIdentification (the same body is also " +
    "accepted there as `application/json`).",
  ...writer,
  middleware: identifyPolicies,
  request: {
    headers: IdempotencyHeaderSchema,
    body: { required: true, content: { "application/json": { schema: IdentifyFromUploadsSchema } } },
  },
  responses: createIdentificationRoute.responses,
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

const MediaQuerySchema = z.object({
  expires: z.coerce
    .number()
    .int()
    .optional()
    .openapi({ description: "Expiry of the signed URL (Unix seconds)." }),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, "a base64url signature")
    .optional()
    .openapi({ description: "HMAC-SHA256 of the URL (base64url)." }),
});

export const getMediaRoute = createRoute({
  method: "get",
  path: "/media/identifications/{identificationId}/{file}",
  operationId: "getIdentificationImage",
  tags,
  summary: "A stored identification image or thumbnail (signed, expiring URL)",
  description:
    "The URLs in `images[]` point here, signed and valid for `MEDIA_URL_TTL_SECONDS` (default 1 h, at least " +
    "three quarters of it from when they are handed out): the URL is the capability, no credentials needed. " +
    "A tampered URL answers 403 `invalid_link_signature`, an expired one 410 `link_expired`: read the " +
    "identification again for fresh URLs. 404 at once after the identification (or the account) is deleted. " +
    "With the local store the JPEG comes in the answer; with S3 a 302 to a short presigned GET of the bucket. " +
    "`Cache-Control: private` until the URL expires.",
  security: [],
  request: { params: MediaParamsSchema, query: MediaQuerySchema },
  responses: {
    200: {
      description: "The JPEG.",
      headers: {
        "Cache-Control": { description: "`private, max-age=<until expiry>`.", schema: { type: "string" } },
      },
      content: { "image/jpeg": { schema: { type: "string", format: "binary" } } },
    },
    302: {
      description:
        "S3 store: fetch the image from this presigned GET (expires with the signed URL at the latest).",
      headers: { Location: { description: "A presigned GET of the bucket.", schema: { type: "string" } } },
    },
    ...errorResponses(400, 403, 404, 410),
  },
});
