import { z } from "@hono/zod-openapi";

export const LivenessSchema = z.object({ status: z.literal("ok") }).openapi("Liveness");

const DependencyStatus = z.object({
  status: z.enum(["up", "down", "degraded", "not_configured"]),
  latencyMs: z.number().nullable(),
  detail: z.string().optional(),
});

export const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "degraded", "not_ready"]),
    checks: z.object({ primary: DependencyStatus, replica: DependencyStatus, redis: DependencyStatus }),
  })
  .openapi("Readiness", {
    example: {
      status: "ready",
      checks: {
        primary: { status: "up", latencyMs: 1.2 },
        replica: { status: "up", latencyMs: 1.1 },
        redis: { status: "up", latencyMs: 0.4 },
      },
    },
  });

export type Readiness = z.infer<typeof ReadinessSchema>;
export type DependencyCheck = z.infer<typeof DependencyStatus>;
