import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { listFailedJobsRoute, retryFailedJobRoute } from "./jobs.routes.ts";
import type { JobsService } from "./jobs.service.ts";

export function jobsHandlers(service: JobsService) {
  const listFailed: RouteHandler<typeof listFailedJobsRoute, AppEnv> = async (c) => {
    const page = await service.listFailed(c.req.valid("query"), new URL(c.req.url));
    c.header("Cache-Control", "no-store");
    return c.json(page, 200);
  };

  const retry: RouteHandler<typeof retryFailedJobRoute, AppEnv> = async (c) => {
    const actor = { ...auditActor(c), userId: authOf(c).userId };
    return c.json(await service.retry(actor, c.req.valid("param").id, c.var.clientKey), 202);
  };

  return { listFailed, retry };
}
