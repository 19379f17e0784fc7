import { createRoute } from "@hono/zod-openapi";
import { errorResponses } from "../../http/openapi.ts";
import { protect } from "../../http/security.ts";
import { json, PUBLIC } from "./auth.routes.ts";
import { AcceptedSchema, EmailOnlySchema, PasswordResetSchema, VerifyEmailSchema } from "./auth.schemas.ts";

const tags = ["Auth"];
const accepted = {
  202: { description: "Accepted.", content: { "application/json": { schema: AcceptedSchema } } },
};

export const verifyEmailRoute = createRoute({
  method: "post",
  path: "/auth/verify-email",
  operationId: "verifyEmail",
  tags,
  summary: "Confirm the address with the token from the e-mailed link",
  description: "Single use; the link expires after 48 hours (400 `invalid_email_token`).",
  ...PUBLIC,
  request: { body: json(VerifyEmailSchema) },
  responses: { 204: { description: "The address is confirmed." }, ...errorResponses(400, 415) },
});

export const resendVerificationRoute = createRoute({
  method: "post",
  path: "/auth/verify-email/resend",
  operationId: "resendEmailVerification",
  tags,
  summary: "E-mail a new confirmation link to the signed-in account",
  description: "Older links stop working. Nothing is sent when the address is already confirmed.",
  ...protect("account:read"),
  responses: { ...accepted, ...errorResponses(401, 403) },
});

export const passwordResetRequestRoute = createRoute({
  method: "post",
  path: "/auth/password-reset",
  operationId: "requestPasswordReset",
  tags,
  summary: "E-mail a password reset link",
  description:
    "Always 202 with the same body: only an address with an account gets a message (a single-use link, valid " +
    "for an hour). At most 3 account e-mails per account per hour.",
  ...PUBLIC,
  request: { body: json(EmailOnlySchema) },
  responses: { ...accepted, ...errorResponses(400, 415) },
});

export const passwordResetConfirmRoute = createRoute({
  method: "post",
  path: "/auth/password-reset/confirm",
  operationId: "resetPassword",
  tags,
  summary: "Choose a new password with the token from the e-mailed link",
  description:
    "Signs out every session of the account and confirms its address. The password rules are those of " +
    "registration (400 lists why a password is refused).",
  ...PUBLIC,
  request: { body: json(PasswordResetSchema) },
  responses: { 204: { description: "The password is changed." }, ...errorResponses(400, 415) },
});

export const loginCodeRoute = createRoute({
  method: "post",
  path: "/auth/login-code",
  operationId: "requestLoginCode",
  tags,
  summary: "E-mail a one-time sign-in code",
  description:
    "For an owner whose sign-ins are slowed down by someone else's failed attempts: send the 8-digit code with " +
    "the password to `POST /v1/auth/login`. Always 202 with the same body; valid 15 minutes, 5 tries.",
  ...PUBLIC,
  request: { body: json(EmailOnlySchema) },
  responses: { ...accepted, ...errorResponses(400, 415) },
});
