import { createRoute } from "@hono/zod-openapi";
import { PRIVATE, publicRoute } from "../../http/cache-policy.ts";
import { errorResponses } from "../../http/openapi.ts";
import { AcceptedSchema, LoginSchema, RefreshSchema, RegisterSchema, SessionSchema } from "./auth.schemas.ts";

// Public, but the answers carry tokens: private, no-store (issue #18).
export const PUBLIC = publicRoute(PRIVATE);
export const json = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const session = (description: string) => ({
  description,
  content: { "application/json": { schema: SessionSchema } },
});

export const registerRoute = createRoute({
  method: "post",
  path: "/auth/register",
  operationId: "register",
  tags: ["Auth"],
  summary: "Create an account (then confirm the address from the e-mail)",
  description:
    "Answers 202 with the same body whether or not the address already has an account, so nobody learns who " +
    "is registered: a new address gets a confirmation link by e-mail; the owner of a taken one gets a notice " +
    "instead. Then sign in with `POST /v1/auth/login`; until the address is confirmed, an account can make a " +
    "few identifications only (403 `email_unverified`). Password: 12 to 128 characters, not only spaces, not " +
    "common, guessable or personal (400 lists why). Limited to 3 per hour per IP by default.",
  ...PUBLIC,
  request: { body: json(RegisterSchema) },
  responses: {
    202: { description: "Accepted.", content: { "application/json": { schema: AcceptedSchema } } },
    ...errorResponses(400, 415),
  },
});

export const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  operationId: "login",
  tags: ["Auth"],
  summary: "Sign in with email and password",
  description:
    "A wrong password and an unknown email answer the same 401 `invalid_credentials`. Failed attempts slow " +
    "sign-ins down, never lock them: after 5 failures from one network each next attempt from it waits twice " +
    "as long (1 minute up to 1 hour), and after 20 failures from anywhere the account waits up to 15 minutes " +
    "(429 `login_throttled` with `Retry-After`). The owner is not held up: a device sending its current " +
    "`refreshToken`, or a correct password with a `code` from `POST /v1/auth/login-code`, signs in at once.",
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
