import { createUpload, type UploadDeps } from "./uploads.create.ts";
import { deleteUpload } from "./uploads.delete.ts";
import { type LocalUpload, receiveLocalUpload } from "./uploads.receive.ts";
import type { CreateUpload, UploadTicket } from "./uploads.schemas.ts";

/**
 * Direct uploads as every transport uses them (REST, GraphQL): plain arguments, AppError. Claiming uploads is
 * part of creating an identification or batch (their services take `{uploadIds, ...}`).
 */
export function createUploadsService(deps: UploadDeps) {
  return {
    /** A signed PUT for one photo of this type and size (and SHA-256), for this user. */
    create: (userId: string, input: CreateUpload): Promise<UploadTicket> => createUpload(deps, userId, input),
    /** Removes an unclaimed upload of this user (object and row); 404 if none, 409 while being claimed. */
    delete: (userId: string, uploadId: string): Promise<void> => deleteUpload(deps, userId, uploadId),
    /** The local store's side of the signed PUT (S3 takes the bytes itself). */
    receive: (put: LocalUpload): Promise<void> => receiveLocalUpload(deps, put),
  };
}

export type UploadsService = ReturnType<typeof createUploadsService>;
