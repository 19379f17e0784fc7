import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import { presentExport } from "./account-data.links.ts";
import type { downloadExportRoute, getExportRoute, requestExportRoute } from "./account-data.routes.ts";
import type { ExportsService } from "./exports.ts";

export function accountDataHandlers(service: ExportsService) {
  const request: RouteHandler<typeof requestExportRoute, AppEnv> = async (c) => {
    const { userId } = authOf(c);
    const view = await service.request({
      userId,
      clientKey: c.var.clientKey,
      actor: auditActor(c),
      traceparent: c.var.traceparent,
    });
    const body = presentExport(view, userId, c.var.deps.config, linkerFor(c));
    c.header("Location", body.links.self);
    return c.json(body, 202);
  };

  const get: RouteHandler<typeof getExportRoute, AppEnv> = async (c) => {
    const { userId } = authOf(c);
    const view = await service.get({ userId, clientKey: c.var.clientKey }, c.req.valid("param").id);
    c.header("Cache-Control", "private, no-store");
    return c.json(presentExport(view, userId, c.var.deps.config, linkerFor(c)), 200);
  };

  const download: RouteHandler<typeof downloadExportRoute, AppEnv> = async (c) => {
    const { id } = c.req.valid("param");
    const { blob, createdAt } = await service.openArchive(authOf(c).userId, id, c.req.valid("query"));
    const day = createdAt.toISOString().slice(0, 10);
    return c.body(blob.body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/gzip",
      "content-length": String(blob.size),
      "content-disposition": `attachment; filename="plant-community-export-${day}.tar.gz"`,
      "cache-control": "private, no-store",
    }) as never;
  };

  return { request, get, download };
}
