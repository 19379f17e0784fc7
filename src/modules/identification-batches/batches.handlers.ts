import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { authOf } from "../../http/security.ts";
import { queueCallerOf } from "../identifications/identifications.jobs.ts";
import { readUploadIdsBody } from "../identifications/identifications.upload-ids.ts";
import { presentBatch } from "./batches.links.ts";
import type { createBatchRoute, getBatchRoute } from "./batches.routes.ts";
import type { BatchesService } from "./batches.service.ts";

export function batchesHandlers(service: BatchesService) {
  const create: RouteHandler<typeof createBatchRoute, AppEnv> = async (c) => {
    const fromUploads = await readUploadIdsBody(c.req.raw);
    const created = fromUploads
      ? await service.createFromUploads(queueCallerOf(c), fromUploads)
      : await service.create(queueCallerOf(c), c.req.raw);
    const batch = presentBatch(created, linkerFor(c));
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
