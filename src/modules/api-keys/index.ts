import { createRouter } from "../../http/router.ts";
import type { Services } from "../../services.ts";
import { apiKeysHandlers } from "./api-keys.handlers.ts";
import { createApiKeyRoute, deleteApiKeyRoute, getApiKeyRoute, listApiKeysRoute } from "./api-keys.routes.ts";

export function apiKeysRouter(services: Services) {
  const h = apiKeysHandlers(services.apiKeys);
  return createRouter()
    .openapi(createApiKeyRoute, h.create)
    .openapi(listApiKeysRoute, h.list)
    .openapi(getApiKeyRoute, h.get)
    .openapi(deleteApiKeyRoute, h.remove);
}
