import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../http/context.ts";
import { linkerFor } from "../../http/links.ts";
import { withPageLinks } from "../../http/pagination.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import type { listFailedJobsRoute, retryFailedJobRoute } from "./jobs.routes.ts";
import type { JobsService } from "./jobs.service.ts";

export function jobsHandlers(service: JobsService) {
  const listFailed: RouteHandler<typeof listFailedJobsRoute, AppEnv> = async (c) => {
    const page = withPageLinks(c, await service.listFailed(c.req.valid("query")));
    c.header("Cache-Control", "no-store");
    const l = linkerFor(c);
    // Only admins reach this route, and retrying is what the list is for: the action is always there.
    const data = page.data.map((j) => ({
      ...j,
      links: { retry: l.action(`/v1/admin/jobs/${j.id}/retry`, "POST") },
    }));
    return c.json({ ...page, data }, 200);
  };

  const retry: RouteHandler<typeof retryFailedJobRoute, AppEnv> = async (c) => {
    const actor = { ...auditActor(c), userId: authOf(c).userId };
    return c.json(await service.retry(actor, c.req.valid("param").id, c.var.clientKey), 202);
  };

  return { listFailed, retry };
}
