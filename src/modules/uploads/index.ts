/**
 * Direct uploads (issue #13): POST /v1/uploads hands out a signed PUT (S3 presigned, or the API's own signed URL
 * with the local store); identifications claim uploads by id (claimUploads: verified bytes, then the usual photo
 * pipeline: storePhoto + insertMedia); the uploads.sweep job removes what nobody claimed; erasure removes a
 * user's uploads (eraseUploadsOf).
 */
import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { uploadHandlers } from "./uploads.handlers.ts";
import { createUploadRoute, deleteUploadRoute, putLocalUploadRoute } from "./uploads.routes.ts";
import { IdentifyFromUploadsSchema, UPLOAD_CONTENT_TYPES } from "./uploads.schemas.ts";

export { type ClaimedUploads, claimUploads, uploadOfClaimed } from "./uploads.claim.ts";
export { type UploadDeps, uploadKey } from "./uploads.create.ts";
export {
  type IdentifyFromUploads,
  IdentifyFromUploadsSchema,
} from "./uploads.schemas.ts";
export { createUploadsService, type UploadsService } from "./uploads.service.ts";
export { eraseUploadsOf, sweepOldUploads } from "./uploads.sweep.ts";

export function uploadsRouter(services: Pick<Services, "uploads">) {
  const h = uploadHandlers(services.uploads);
  const router = createRouter()
    .openapi(createUploadRoute, h.create)
    .openapi(putLocalUploadRoute, h.put)
    .openapi(deleteUploadRoute, h.remove);
  // The JSON body of POST /v1/identifications and batches, documented as a component (see their routes).
  router.openAPIRegistry.register("IdentifyFromUploads", IdentifyFromUploadsSchema);
  return router;
}

const LOCAL_UPLOAD_PATH = /^\/v1\/uploads\/[0-9a-f-]{36}$/;

/** Body limits of the local upload URL: one photo (the per-photo limit), of an image type. */
export function uploadBodyPolicy(deps: Pick<Deps, "config">) {
  return (path: string) =>
    LOCAL_UPLOAD_PATH.test(path)
      ? { maxBytes: deps.config.uploads.maxFileBytes, mediaTypes: [...UPLOAD_CONTENT_TYPES] }
      : undefined;
}
