import { createRoute } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { FailedJobPageSchema, FailedJobQuerySchema, RetriedJobSchema } from "./jobs.schemas.ts";

export const listFailedJobsRoute = createRoute({
  method: "get",
  path: "/admin/jobs/failed",
  operationId: "listFailedJobs",
  tags: ["Admin"],
  summary: "Background jobs that used all their attempts (admin)",
  description:
    "Dead letters not yet re-driven, newest first, with the payload and the last error. Filter by lane or job; " +
    "follow `links.next` for older ones.",
  ...protect("admin"),
  request: { query: FailedJobQuerySchema },
  responses: {
    200: {
      description: "A page of failed jobs.",
      content: { "application/json": { schema: FailedJobPageSchema } },
    },
    ...errorResponses(400, 401, 403, 503),
  },
});

export const retryFailedJobRoute = createRoute({
  method: "post",
  path: "/admin/jobs/{id}/retry",
  operationId: "retryFailedJob",
  tags: ["Admin"],
  summary: "Re-drive a failed job (admin, audited)",
  description:
    "Enqueues the job again in the lane it failed in, with a fresh set of attempts, and records who did it in " +
    "the audit log. A dead letter is re-driven once: a second call answers 409.",
  ...protect("admin"),
  request: { params: UuidParamSchema },
  responses: {
    202: { description: "Enqueued again.", content: { "application/json": { schema: RetriedJobSchema } } },
    ...errorResponses(400, 401, 403, 404, 409, 503),
  },
});
