import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { CreateUploadSchema, UPLOAD_CONTENT_TYPES, UploadTicketSchema } from "./uploads.schemas.ts";

const tags = ["Identifications"];
const writer = protect("identifications:write");

export const createUploadRoute = createRoute({
  method: "post",
  path: "/uploads",
  operationId: "createUpload",
  tags,
  summary: "Get a signed URL to upload one photo directly",
  description:
    "Send the photo's bytes to `url` with `method` and exactly `headers` (type, length and, when declared, " +
    "the SHA-256) before `expiresAt` (`UPLOAD_URL_TTL_SECONDS`, 15 min): straight to the S3 bucket (a " +
    "presigned PUT) or, with the local store, to the API. Then name it in `uploadIds` of " +
    "`POST /v1/identifications` (JSON), which checks it like a multipart photo. Unused uploads are removed " +
    "after 24 h; at most `UPLOADS_MAX_OUTSTANDING` (20) may wait per user (429 `upload_limit_reached`). " +
    "Larger than the per-photo limit: 413.",
  ...writer,
  request: { body: { required: true, content: { "application/json": { schema: CreateUploadSchema } } } },
  responses: {
    201: {
      description: "Upload here.",
      content: { "application/json": { schema: UploadTicketSchema } },
    },
    ...errorResponses(400, 401, 403, 413, 503),
  },
});

export const deleteUploadRoute = createRoute({
  method: "delete",
  path: "/uploads/{id}",
  operationId: "deleteUpload",
  tags,
  summary: "Remove an upload that will not be used",
  description:
    "For a photo the user dropped before identifying: the upload and its bytes (sent or not) are removed at " +
    "once, and it no longer counts against `UPLOADS_MAX_OUTSTANDING`. One being used by an identification " +
    "right now answers 409 (it goes once the identification has stored it); another account's, one already " +
    "used or removed, 404.",
  ...writer,
  request: { params: UuidParamSchema },
  responses: { 204: { description: "Removed." }, ...errorResponses(400, 401, 403, 404, 409, 503) },
});

const LocalUploadParams = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: "id", in: "path" }, example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
});
const LocalUploadQuery = z.object({
  expires: z.coerce.number().int().optional(),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, "a base64url signature")
    .optional(),
});
const binary = { schema: { type: "string" as const, format: "binary" } };

export const putLocalUploadRoute = createRoute({
  method: "put",
  path: "/uploads/{id}",
  operationId: "putUpload",
  tags,
  summary: "Receive an upload's bytes (local store; the signed URL of POST /v1/uploads)",
  description:
    "What a presigned S3 PUT enforces, for the local store: the signature (403 `invalid_link_signature`), " +
    "its expiry (410 `link_expired`), the declared type (415) and size (413 larger, 400 shorter), the declared " +
    "SHA-256 (422 `upload_checksum_mismatch`). No credentials: the URL is the capability.",
  security: [],
  request: {
    params: LocalUploadParams,
    query: LocalUploadQuery,
    body: {
      required: true,
      content: Object.fromEntries(UPLOAD_CONTENT_TYPES.map((t) => [t, binary])),
    },
  },
  responses: {
    204: { description: "Received; the upload can be used." },
    ...errorResponses(400, 403, 410, 413, 415, 422, 503),
  },
});
