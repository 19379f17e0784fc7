import { createRoute } from "@hono/zod-openapi";
import { errorResponses, UuidParamSchema } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import {
  ApiKeyListQuerySchema,
  ApiKeyPageSchema,
  ApiKeySchema,
  CreateApiKeySchema,
  CreatedApiKeySchema,
} from "./api-keys.schemas.ts";

export const createApiKeyRoute = createRoute({
  method: "post",
  path: "/api-keys",
  operationId: "createApiKey",
  tags: ["API keys"],
  summary: "Create an API key (the secret is shown once)",
  description:
    "Only a hash is stored: keep the `key` from this answer. A key can carry only scopes its creator has " +
    "(403 `insufficient_scope` otherwise). At most 50 live keys per account.",
  ...protect("account:write"),
  request: { body: { required: true, content: { "application/json": { schema: CreateApiKeySchema } } } },
  responses: {
    201: {
      description: "The new key, with its secret.",
      headers: { Location: { schema: { type: "string" } } },
      content: { "application/json": { schema: CreatedApiKeySchema } },
    },
    ...errorResponses(400, 401, 403, 409, 415, 503),
  },
});

export const listApiKeysRoute = createRoute({
  method: "get",
  path: "/api-keys",
  operationId: "listApiKeys",
  tags: ["API keys"],
  summary: "Your live API keys (never their secrets)",
  description: "Newest first.",
  ...protect("account:read"),
  request: { query: ApiKeyListQuerySchema },
  responses: {
    200: { description: "A page of keys.", content: { "application/json": { schema: ApiKeyPageSchema } } },
    ...errorResponses(400, 401, 403),
  },
});

export const getApiKeyRoute = createRoute({
  method: "get",
  path: "/api-keys/{id}",
  operationId: "getApiKey",
  tags: ["API keys"],
  summary: "One of your live API keys (never its secret)",
  description:
    "Where a created key's `Location` points. Another account's key, or a revoked one, answers 404.",
  ...protect("account:read"),
  request: { params: UuidParamSchema },
  responses: {
    200: { description: "The key.", content: { "application/json": { schema: ApiKeySchema } } },
    ...errorResponses(400, 401, 403, 404),
  },
});

export const deleteApiKeyRoute = createRoute({
  method: "delete",
  path: "/api-keys/{id}",
  operationId: "revokeApiKey",
  tags: ["API keys"],
  summary: "Revoke an API key",
  description: "The key stops working at once. Another account's key, or one already revoked, answers 404.",
  ...protect("account:write"),
  request: { params: UuidParamSchema },
  responses: { 204: { description: "Revoked." }, ...errorResponses(400, 401, 403, 404, 503) },
});
