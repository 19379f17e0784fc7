import { z } from "@hono/zod-openapi";
import { LANES } from "../../config/queues.ts";
import { ActionLinkSchema } from "../../http/links.ts";
import { PageLinksSchema, pageQuery } from "../../http/openapi.ts";
import { JOB_NAMES } from "../../infra/job-catalogue.ts";

export const FailedJobCoreSchema = z.object({
  id: z.string().uuid().openapi({ description: "This dead letter's id (use it to retry)." }),
  jobId: z.string().openapi({ example: "0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
  job: z.enum(JOB_NAMES).openapi({ example: "email.send" }),
  lane: z.enum(LANES).openapi({ example: "fast" }),
  groupId: z.string().openapi({ example: "user:0190f5a2-7b1c-7d3e-8f00-1234567890ab" }),
  payload: z.unknown().openapi({ description: "The job's payload as it was enqueued." }),
  error: z.object({
    name: z.string().openapi({ example: "Error" }),
    message: z.string().openapi({ example: "connect ECONNREFUSED 127.0.0.1:2525" }),
  }),
  attempts: z.number().int().openapi({ example: 5 }),
  failedAt: z.string().datetime({ offset: true }),
});

export const FailedJobSchema = FailedJobCoreSchema.extend({
  links: z
    .object({ retry: ActionLinkSchema.openapi({ description: "Re-drive it (admin)." }) })
    .openapi("FailedJobLinks"),
}).openapi("FailedJob", { description: "A job that used all its attempts (dead letter), kept for redrive." });

export const FailedJobPageSchema = z
  .object({ data: z.array(FailedJobSchema), nextCursor: z.string().nullable(), links: PageLinksSchema })
  .openapi("FailedJobPage");

export const FailedJobQuerySchema = pageQuery().extend({
  lane: z
    .enum(LANES)
    .optional()
    .openapi({ param: { name: "lane", in: "query" }, example: "fast" }),
  job: z
    .enum(JOB_NAMES)
    .optional()
    .openapi({ param: { name: "job", in: "query" }, example: "email.send" }),
});

export const RetriedJobSchema = z
  .object({
    id: z.string().uuid().openapi({ description: "The dead letter that was re-driven." }),
    job: z.enum(JOB_NAMES),
    lane: z.enum(LANES),
    retryJobId: z.string().openapi({ description: "The id of the new job, with a fresh set of attempts." }),
    retriedAt: z.string().datetime({ offset: true }),
  })
  .openapi("RetriedJob");

export type FailedJob = z.infer<typeof FailedJobCoreSchema>;
export type FailedJobPage = Omit<z.infer<typeof FailedJobPageSchema>, "data"> & { data: FailedJob[] };
export type FailedJobQuery = z.infer<typeof FailedJobQuerySchema>;
export type RetriedJob = z.infer<typeof RetriedJobSchema>;
