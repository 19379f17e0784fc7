import { createRoute } from "@hono/zod-openapi";
import { LivenessSchema, ReadinessSchema } from "./system.schemas.ts";

export const healthRoute = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["System"],
  summary: "Liveness: the process answers",
  security: [],
  responses: { 200: { description: "Alive.", content: { "application/json": { schema: LivenessSchema } } } },
});

export const readyRoute = createRoute({
  method: "get",
  path: "/ready",
  operationId: "getReadiness",
  tags: ["System"],
  summary: "Readiness: primary database, replica and Redis",
  description:
    "503 when the primary or Redis is down. A replica outage only degrades: reads fall back to the primary.",
  security: [],
  responses: {
    200: {
      description: "Ready (possibly degraded).",
      content: { "application/json": { schema: ReadinessSchema } },
    },
    503: { description: "Not ready.", content: { "application/json": { schema: ReadinessSchema } } },
  },
});
