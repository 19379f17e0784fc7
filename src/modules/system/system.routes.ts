import { createRoute } from "@hono/zod-openapi";
import { problemResponse } from "../../http/openapi.ts";
import { LivenessSchema, ReadinessSchema } from "./system.schemas.ts";

export const healthRoute = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["System"],
  summary: "Liveness: the process answers",
  description: "503 while the instance drains on shutdown, so the proxy routes new requests elsewhere.",
  security: [],
  responses: {
    200: { description: "Alive.", content: { "application/json": { schema: LivenessSchema } } },
    503: problemResponse(503, "Draining: the instance is shutting down; the proxy routes elsewhere."),
  },
});

export const readyRoute = createRoute({
  method: "get",
  path: "/ready",
  operationId: "getReadiness",
  tags: ["System"],
  summary: "Readiness: primary database, replica, Redis and the job queue",
  description:
    "503 when the primary, Redis or the job queue is down (the queue check runs one of the queue's scripts and a " +
    "write, so a connected Redis that cannot run jobs counts as down). A replica outage only degrades: reads " +
    "fall back to the primary. Each dependency reports its state and latency, never an error message.",
  security: [],
  responses: {
    200: {
      description: "Ready (possibly degraded).",
      content: { "application/json": { schema: ReadinessSchema } },
    },
    503: { description: "Not ready.", content: { "application/json": { schema: ReadinessSchema } } },
  },
});
