import type { Deps } from "../../deps.ts";
import { createRouter } from "../../http/router.ts";
import { jobsHandlers } from "./jobs.handlers.ts";
import { listFailedJobsRoute, retryFailedJobRoute } from "./jobs.routes.ts";
import { createJobsService } from "./jobs.service.ts";

export function jobsRouter(deps: Deps) {
  const h = jobsHandlers(createJobsService(deps));
  return createRouter().openapi(listFailedJobsRoute, h.listFailed).openapi(retryFailedJobRoute, h.retry);
}
