import { createRoute } from "@hono/zod-openapi";
import { errorResponses } from "../../http/openapi.ts";
import { optionalAuth } from "../../http/security.ts";
import { ProviderStatusListSchema } from "./providers.schemas.ts";

export const listProvidersRoute = createRoute({
  method: "get",
  path: "/providers",
  operationId: "listProviders",
  tags: ["Providers"],
  summary: "Identification providers and their circuit breakers",
  description:
    "Public: each provider's breaker state. With the `admin` scope: failure counts, last change, coordination " +
    "mode and quota usage.",
  ...optionalAuth(),
  responses: {
    200: {
      description: "Every provider.",
      content: { "application/json": { schema: ProviderStatusListSchema } },
    },
    // Credentials are optional and a refused one is ignored (served as anonymous): no 401.
    ...errorResponses(),
  },
});
