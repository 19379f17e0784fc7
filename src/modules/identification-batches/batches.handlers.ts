import type { RouteHandler } from "@hono/zod-openapi";
import type { Config } from "../../config/index.ts";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { authOf } from "../../http/security.ts";
import { queueCallerOf } from "../identifications/identifications.request.ts";
import { readIdentificationForm } from "../identifications/identifications.upload.ts";
import { readUploadIdsBody } from "../identifications/identifications.upload-ids.ts";
import { presentBatch } from "./batches.links.ts";
import type { createBatchRoute, getBatchRoute } from "./batches.routes.ts";
import { type BatchesService, batchUploadLimits } from "./batches.service.ts";

export function batchesHandlers(service: BatchesService, config: Pick<Config, "uploads" | "batches">) {
  const create: RouteHandler<typeof createBatchRoute, AppEnv> = async (c) => {
    // JSON names photos uploaded before (POST /v1/uploads); anything else is the multipart form.
    const input =
      (await readUploadIdsBody(c.req.raw)) ??
      (await readIdentificationForm(c.req.raw, batchUploadLimits(config)));
    const batch = presentBatch(await service.create(queueCallerOf(c), input), linkerFor(c));
    c.header("Location", batch.links.self);
    return c.json(batch, 202);
  };

  const get: RouteHandler<typeof getBatchRoute, AppEnv> = async (c) => {
    const batch = await service.get(
      { userId: authOf(c).userId, clientKey: c.var.clientKey },
      c.req.valid("param").id,
    );
    c.header("Cache-Control", "private, no-store");
    return c.json(presentBatch(batch, linkerFor(c)), 200);
  };

  return { create, get };
}
