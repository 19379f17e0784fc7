import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import { createUpload, type UploadDeps } from "./uploads.create.ts";
import { receiveLocalUpload } from "./uploads.receive.ts";
import type { createUploadRoute, putLocalUploadRoute } from "./uploads.routes.ts";

export function uploadHandlers(deps: UploadDeps) {
  const create: RouteHandler<typeof createUploadRoute, AppEnv> = async (c) => {
    const ticket = await createUpload(deps, authOf(c).userId, c.req.valid("json"));
    return c.json(ticket, 201);
  };

  const put: RouteHandler<typeof putLocalUploadRoute, AppEnv> = async (c) => {
    await receiveLocalUpload(deps, {
      uploadId: c.req.valid("param").id,
      ...c.req.valid("query"),
      contentType: c.req.header("content-type") ?? "",
      body: c.req.raw.body,
    });
    return c.body(null, 204);
  };

  return { create, put };
}
