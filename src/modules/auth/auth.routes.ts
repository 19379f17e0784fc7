import { createRoute } from "@hono/zod-openapi";
import { PRIVATE, publicRoute } from "../../http/cache-policy.ts";
import { errorResponses } from "../../http/openapi.ts";
import { LoginSchema, RefreshSchema, RegisterSchema, SessionSchema } from "./auth.schemas.ts";

// Public, but the answers carry tokens: private, no-store (issue #18).
const PUBLIC = publicRoute(PRIVATE);
const json = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const session = (description: string) => ({
  description,
  content: { "application/json": { schema: SessionSchema } },
});

export const registerRoute = createRoute({
  method: "post",
  path: "/auth/register",
  operationId: "register",
  tags: ["Auth"],
  summary: "Create an account and sign in",
  description:
    "Password: 12 to 128 characters, not the email address. Email addresses are compared case-insensitively; " +
    "one already in use answers 409 `email_unavailable`. Limited to 3 per hour per IP by default.",
  ...PUBLIC,
  request: { body: json(RegisterSchema) },
  responses: { 201: session("Signed in as the new user."), ...errorResponses(400, 409, 415) },
});

export const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  operationId: "login",
  tags: ["Auth"],
  summary: "Sign in with email and password",
  description:
    "A wrong password and an unknown email answer the same 401 `invalid_credentials`. Limited per IP and per " +
    "email (5 per 15 minutes by default); repeated failures lock the account (429 `account_locked`).",
  ...PUBLIC,
  request: { body: json(LoginSchema) },
  responses: { 200: session("Signed in."), ...errorResponses(400, 401, 415, 503) },
});

export const refreshRoute = createRoute({
  method: "post",
  path: "/auth/refresh",
  operationId: "refreshSession",
  tags: ["Auth"],
  summary: "Exchange a refresh token for new tokens",
  description:
    "Refresh tokens are single use: the answer carries a new one. Presenting a used token again signs the whole " +
    "session out (its refresh and access tokens) and answers 401 `invalid_refresh_token`.",
  ...PUBLIC,
  request: { body: json(RefreshSchema) },
  responses: { 200: session("New tokens for the same session."), ...errorResponses(400, 401, 415) },
});

export const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  operationId: "logout",
  tags: ["Auth"],
  summary: "Sign the session out",
  description: "Revokes the refresh token's session, including its access tokens. Idempotent.",
  ...PUBLIC,
  request: { body: json(RefreshSchema) },
  responses: { 204: { description: "Signed out." }, ...errorResponses(400, 415) },
});
