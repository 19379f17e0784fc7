import { createRoute } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { verifiedEmail } from "../auth/verified-email.ts";
import { providerBudget } from "../identifications/provider-budget.ts";
import { BatchSchema, BatchUploadDoc } from "./batches.schemas.ts";

const tags = ["Identifications"];
const writer = protect("identifications:write");

export const createBatchRoute = createRoute({
  method: "post",
  path: "/identification-batches",
  operationId: "createIdentificationBatch",
  tags,
  summary: "Identify up to 20 photos in the background",
  description:
    "Every photo becomes its own identification. The photos are validated and stored at once (the same checks " +
    "as `POST /v1/identifications`, the whole batch is refused if one fails them); the providers are asked in " +
    "the background. Poll the batch (`Location`) for progress; a notification says when it is done. Needs a " +
    "confirmed e-mail address (403 `email_unverified`). Every photo counts against the identification rate " +
    "limit (429 `rate_limited`) and needs room in the daily provider budget (429 `provider_budget_exhausted`). " +
    "Or send JSON `{uploadIds, organs, latitude, longitude, includeHealth}` (schema `IdentifyFromUploads`) " +
    "naming up to 20 photos uploaded " +
    "with `POST /v1/uploads`, checked the same way (422 `upload_unavailable`, 409 `upload_incomplete`).",
  ...writer,
  middleware: [
    ...writer.middleware,
    verifiedEmail({ perRequest: Number.POSITIVE_INFINITY }),
    providerBudget(),
  ] as const,
  // The JSON form (upload ids, schema IdentifyFromUploads) is described, not listed as a media type: see
  // createIdentificationRoute (generated clients would drop their multipart call).
  request: { body: { required: true, content: { "multipart/form-data": { schema: BatchUploadDoc } } } },
  responses: {
    202: {
      description: "Accepted; the photos are identified in the background.",
      headers: { Location: { description: "The batch.", schema: { type: "string" } } },
      content: { "application/json": { schema: BatchSchema } },
    },
    ...errorResponses(400, 401, 403, 409, 413, 415, 422, 503),
  },
});

export const getBatchRoute = createRoute({
  method: "get",
  path: "/identification-batches/{id}",
  operationId: "getIdentificationBatch",
  tags,
  summary: "One of your batches, with each photo's status and the progress",
  description:
    "Poll it until `status` is `completed` or `failed`; each item links to its identification. Another user's batch answers 404.",
  ...protect("identifications:read"),
  request: { params: UuidParamSchema },
  responses: {
    200: { description: "The batch.", content: { "application/json": { schema: BatchSchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});
