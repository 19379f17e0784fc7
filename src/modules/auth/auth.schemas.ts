import { z } from "@hono/zod-openapi";
import { text } from "../../http/text.ts";
import { DisplayNameSchema, UserSchema } from "../users/users.schemas.ts";
import { passwordProblems } from "./password-strength.ts";

export const EmailSchema = text({ normalize: "NFKC" })
  .trim()
  .toLowerCase()
  .max(254)
  .email()
  .openapi({ example: "ada@example.com", description: "Compared case-insensitively." });

const NewPasswordSchema = text()
  .min(12)
  .max(128)
  .openapi({
    example: "correct horse battery staple",
    description:
      "12 to 128 characters, not only spaces, and hard to guess (its first 32 characters are rated): " +
      "common, guessable or personal passwords (the address, the name) are refused with the reasons in `errors[]`.",
  });

export const RegisterSchema = z
  .object({ email: EmailSchema, password: NewPasswordSchema, displayName: DisplayNameSchema })
  .strict()
  .refine((v) => v.password.trim().toLowerCase() !== v.email, {
    path: ["password"],
    message: "must not be the email address",
  })
  .superRefine((v, ctx) => {
    if (v.password.trim().toLowerCase() === v.email) return;
    for (const message of passwordProblems(v.password, [v.email, v.displayName]))
      ctx.addIssue({ code: "custom", path: ["password"], message });
  })
  .openapi("Register");

/** The one answer to every request that names an address: it never says whether the address has an account. */
export const AcceptedSchema = z
  .object({
    message: z.string().openapi({ example: "If the address can be used, a message is on its way." }),
  })
  .openapi("Accepted");

export const EmailOnlySchema = z.object({ email: EmailSchema }).strict().openapi("EmailOnly");

const LinkTokenSchema = text().min(20).max(200).openapi({ description: "The `token` of the e-mailed link." });

export const VerifyEmailSchema = z.object({ token: LinkTokenSchema }).strict().openapi("VerifyEmail");

export const PasswordResetSchema = z
  .object({ token: LinkTokenSchema, password: NewPasswordSchema })
  .strict()
  .openapi("PasswordReset");

export const LoginSchema = z
  .object({
    email: EmailSchema,
    password: text().min(1).max(128).openapi({ example: "correct horse battery staple" }),
    refreshToken: text()
      .min(1)
      .max(200)
      .optional()
      .openapi({
        description:
          "This device's current refresh token for the account, if it has one: the device then signs in even " +
          "while strangers' failed attempts slow the account down.",
      }),
    code: z
      .string()
      .regex(/^\d{8}$/, "8 digits")
      .optional()
      .openapi({
        description: "A sign-in code from `POST /v1/auth/login-code`: with it, throttling is skipped.",
      }),
  })
  .strict()
  .openapi("Login");

export const RefreshSchema = z
  .object({
    refreshToken: text()
      .min(1)
      .max(200)
      .openapi({ example: "q0xW3F1c2VyLXRva2VuLWV4YW1wbGUtb25seS0xMjM0NTY3OA" }),
  })
  .strict()
  .openapi("RefreshRequest");

export const SessionSchema = z
  .object({
    user: UserSchema,
    tokenType: z.literal("Bearer"),
    accessToken: z
      .string()
      .openapi({ example: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTkwIn0.sig" }),
    expiresIn: z
      .number()
      .int()
      .openapi({ example: 900, description: "Seconds until the access token expires." }),
    refreshToken: z.string().openapi({
      example: "q0xW3F1c2VyLXRva2VuLWV4YW1wbGUtb25seS0xMjM0NTY3OA",
      description:
        "Opaque; single use: every refresh answers with a new one. Reusing an old one signs the session out.",
    }),
    refreshExpiresIn: z.number().int().openapi({ example: 2_592_000 }),
  })
  .openapi("Session");

export type Session = z.infer<typeof SessionSchema>;
export type RegisterInput = z.infer<typeof RegisterSchema>;
export type LoginInput = z.infer<typeof LoginSchema>;
