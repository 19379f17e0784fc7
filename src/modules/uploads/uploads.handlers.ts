import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import type { createUploadRoute, deleteUploadRoute, putLocalUploadRoute } from "./uploads.routes.ts";
import type { UploadsService } from "./uploads.service.ts";

export function uploadHandlers(service: UploadsService) {
  const create: RouteHandler<typeof createUploadRoute, AppEnv> = async (c) => {
    const ticket = await service.create(authOf(c).userId, c.req.valid("json"));
    return c.json(ticket, 201);
  };

  const put: RouteHandler<typeof putLocalUploadRoute, AppEnv> = async (c) => {
    await service.receive({
      uploadId: c.req.valid("param").id,
      ...c.req.valid("query"),
      contentType: c.req.header("content-type") ?? "",
      body: c.req.raw.body,
    });
    return c.body(null, 204);
  };

  const remove: RouteHandler<typeof deleteUploadRoute, AppEnv> = async (c) => {
    await service.delete(authOf(c).userId, c.req.valid("param").id);
    return c.body(null, 204);
  };

  return { create, put, remove };
}
