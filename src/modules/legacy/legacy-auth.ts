import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import type { AppEnv } from "../../http/context.ts";
import { zodIssuesToFieldErrors } from "../../http/router.ts";
import { authOf } from "../../http/security.ts";
import { auditActor } from "../audit/audit.record.ts";
import { LoginSchema } from "../auth/auth.schemas.ts";
import type { AuthService } from "../auth/auth.service.ts";
import type { UsersService } from "../users/users.service.ts";

/** The old SimpleJWT pair: our access token and our (single-use, rotating) refresh token. */
const RefreshBody = z.object({ refresh: z.string().min(1).max(200) }).strict();

async function jsonBody<T>(c: Context<AppEnv>, schema: z.ZodType<T>): Promise<T> {
  const raw = await c.req.json().catch(() => {
    throw new AppError("malformed_body", "The body is not valid JSON.");
  });
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError("validation_failed", "One or more fields are invalid.", {
      errors: zodIssuesToFieldErrors(parsed.error, "json"),
    });
  }
  return parsed.data;
}

export function legacyAuthHandlers(auth: AuthService, users: UsersService) {
  const noStore = { "cache-control": "private, no-store" };
  return {
    async token(c: Context<AppEnv>) {
      const session = await auth.login(await jsonBody(c, LoginSchema), auditActor(c));
      return c.json({ access: session.accessToken, refresh: session.refreshToken }, 200, noStore);
    },

    async refresh(c: Context<AppEnv>) {
      const { refresh } = await jsonBody(c, RefreshBody);
      const session = await auth.refresh(refresh, auditActor(c));
      return c.json({ access: session.accessToken, refresh: session.refreshToken }, 200, noStore);
    },

    async user(c: Context<AppEnv>) {
      const me = await users.getMe(authOf(c).userId, c.var.clientKey);
      return c.json(
        { id: me.id, email: me.email, display_name: me.displayName, date_joined: me.createdAt },
        200,
        noStore,
      );
    },
  };
}
