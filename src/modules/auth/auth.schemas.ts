import { z } from "@hono/zod-openapi";
import { text } from "../../http/text.ts";
import { DisplayNameSchema, UserSchema } from "../users/users.schemas.ts";

export const EmailSchema = text({ normalize: "NFKC" })
  .trim()
  .toLowerCase()
  .max(254)
  .email()
  .openapi({ example: "ada@example.com", description: "Compared case-insensitively." });

const NewPasswordSchema = z.string().min(12).max(128).openapi({ example: "correct horse battery staple" });

export const RegisterSchema = z
  .object({ email: EmailSchema, password: NewPasswordSchema, displayName: DisplayNameSchema })
  .strict()
  .refine((v) => v.password.trim().toLowerCase() !== v.email, {
    path: ["password"],
    message: "must not be the email address",
  })
  .openapi("Register");

export const LoginSchema = z
  .object({
    email: EmailSchema,
    password: text().min(1).max(128).openapi({ example: "correct horse battery staple" }),
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
