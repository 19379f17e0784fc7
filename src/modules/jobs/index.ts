import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { jobsHandlers } from "./jobs.handlers.ts";
import { listFailedJobsRoute, retryFailedJobRoute } from "./jobs.routes.ts";

export function jobsRouter(services: Services) {
  const h = jobsHandlers(services.jobs);
  return createRouter().openapi(listFailedJobsRoute, h.listFailed).openapi(retryFailedJobRoute, h.retry);
}
