import { z } from "@hono/zod-openapi";

export const LivenessSchema = z.object({ status: z.literal("ok") }).openapi("Liveness");

// State and latency only: this endpoint is public, so no error text (host names, driver messages) goes out.
const DependencyStatus = z.object({
  status: z.enum(["up", "down", "degraded", "not_configured"]),
  latencyMs: z.number().nullable(),
});

export const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "degraded", "not_ready"]),
    checks: z.object({
      primary: DependencyStatus,
      replica: DependencyStatus,
      redis: DependencyStatus,
      /** The queue connection runs one of groupmq's scripts and takes a write: can jobs be accepted and served. */
      queue: DependencyStatus,
    }),
  })
  .openapi("Readiness", {
    example: {
      status: "ready",
      checks: {
        primary: { status: "up", latencyMs: 1.2 },
        replica: { status: "up", latencyMs: 1.1 },
        redis: { status: "up", latencyMs: 0.4 },
        queue: { status: "up", latencyMs: 0.6 },
      },
    },
  });

export type Readiness = z.infer<typeof ReadinessSchema>;
export type DependencyCheck = z.infer<typeof DependencyStatus>;
