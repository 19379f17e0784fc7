import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { withPageLinks } from "../../http/pagination.ts";
import type { listAuditRoute } from "./audit.routes.ts";
import type { AuditService } from "./audit.service.ts";

export function auditHandlers(service: AuditService) {
  const list: RouteHandler<typeof listAuditRoute, AppEnv> = async (c) => {
    return c.json(withPageLinks(c, await service.list(c.req.valid("query"))), 200);
  };
  return { list };
}
