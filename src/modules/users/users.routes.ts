import { createRoute } from "@hono/zod-openapi";
import { errorResponses } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { UpdateMeSchema, UserSchema } from "./users.schemas.ts";

const user = (description: string) => ({
  description,
  content: { "application/json": { schema: UserSchema } },
});

export const getMeRoute = createRoute({
  method: "get",
  path: "/me",
  operationId: "getMe",
  tags: ["Account"],
  summary: "The signed-in account",
  description: "The account behind the access token or API key, with its role and preferences.",
  ...protect("account:read"),
  responses: { 200: user("The account."), ...errorResponses(401, 403) },
});

export const updateMeRoute = createRoute({
  method: "patch",
  path: "/me",
  operationId: "updateMe",
  tags: ["Account"],
  summary: "Change the display name or preferences",
  description: "Only the fields sent change; preferences merge key by key (at most 50).",
  ...protect("account:write"),
  request: { body: { required: true, content: { "application/json": { schema: UpdateMeSchema } } } },
  responses: { 200: user("The updated account."), ...errorResponses(400, 401, 403, 415, 503) },
});

export const deleteMeRoute = createRoute({
  method: "delete",
  path: "/me",
  operationId: "deleteMe",
  tags: ["Account"],
  summary: "Delete the account",
  description:
    "Soft delete: every session and API key is revoked at once, the account's data (photos included) is no longer " +
    "served, and the email address may register again. After a grace period (30 days by default) the data is " +
    "erased: identifications, photos, exports, API keys and tokens are removed and audit entries anonymised.",
  ...protect("account:write"),
  responses: { 204: { description: "Deleted." }, ...errorResponses(401, 403, 503) },
});
