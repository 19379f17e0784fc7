import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { createRateLimiter } from "../../infra/rate-limiter.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { maskEmail } from "../users/users.dto.ts";
import { findLiveUserByEmail, findLiveUserById, insertUser } from "../users/users.repo.ts";
import { accountMail, sendAccountMail } from "./account-mail.ts";
import type { RegisterInput } from "./auth.schemas.ts";
import {
  consumeEmailToken,
  type EmailTokenPurpose,
  insertEmailToken,
  markEmailVerified,
  retireEmailTokens,
  setPasswordHash,
} from "./email-tokens.repo.ts";
import type { LoginThrottle } from "./login-throttle.ts";
import { passwordProblems } from "./password-strength.ts";
import { createPasswords } from "./passwords.ts";
import { revokeAllFamilies } from "./refresh-tokens.repo.ts";
import { newRefreshToken, sha256Hex } from "./secrets.ts";
import { markSessionsRevoked } from "./sessions.ts";

type AccountDeps = Pick<Deps, "config" | "db" | "redis" | "logger" | "clock" | "queues" | "metrics">;

export type AccountEmailService = ReturnType<typeof createAccountEmailService>;

/**
 * Registration, e-mail verification and password reset. Every answer that takes an address is the same whether
 * or not the address has an account (202, same body, the same argon2 work): the owner of a taken address gets
 * an e-mail instead, so nobody learns who is registered from these endpoints.
 */
export function createAccountEmailService(deps: AccountDeps, throttle: LoginThrottle) {
  const { config, logger } = deps;
  const settings = config.accountSecurity;
  const passwords = createPasswords(config.auth.argon2);
  const limiter = createRateLimiter(deps.redis.cache, config.redis.keyPrefix, () => deps.clock.now());
  const mailPolicy = { name: "account-mail", ...settings.accountMail };

  /** At most a few account e-mails per account per hour, so these endpoints cannot flood anyone's inbox. */
  async function mayMail(userId: string): Promise<boolean> {
    try {
      return (await limiter.hit(mailPolicy, `user:${userId}`)).allowed;
    } catch (err) {
      logger.warn({ err: String(err) }, "account e-mail budget unknown (redis): sending");
      return true;
    }
  }

  async function newLink(userId: string, purpose: EmailTokenPurpose, ttlSeconds: number) {
    const { token, tokenHash } = newRefreshToken();
    const now = new Date(deps.clock.now());
    await retireEmailTokens(deps.db.primary, userId, purpose, now);
    const id = await insertEmailToken(deps.db.primary, {
      userId,
      purpose,
      tokenHash,
      expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
    });
    const page = purpose === "verify_email" ? "verify-email" : "reset-password";
    return { id, link: `${settings.appLinkBaseUrl}/${page}?token=${token}` };
  }

  return {
    async register(input: RegisterInput, actor: AuditActor): Promise<void> {
      const passwordHash = await passwords.hash(input.password);
      const user = await deps.db.primary.transaction().execute(async (trx) => {
        const created = await insertUser(trx, {
          email: input.email,
          passwordHash,
          displayName: input.displayName,
        });
        if (!created) return undefined;
        await recordAudit(
          trx,
          { ...actor, kind: "user", userId: created.id },
          {
            action: "user.register",
            entityType: "user",
            entityId: created.id,
            after: { email: maskEmail(created.email), displayName: created.display_name, role: created.role },
          },
        );
        return created;
      });
      if (user) {
        await deps.db.markWrite(`user:${user.id}`);
        const { id, link } = await newLink(user.id, "verify_email", settings.emailVerifyTtlSeconds);
        await sendAccountMail(
          deps,
          user.id,
          accountMail.verify(user.email, link, id, settings.emailVerifyTtlSeconds / 3600),
        );
        return;
      }
      const owner = await findLiveUserByEmail(deps.db.primary, input.email);
      logger.info(
        { emailHint: maskEmail(input.email), requestId: actor.requestId },
        "registration for a taken address",
      );
      if (owner && (await mayMail(owner.id))) {
        const mail = accountMail.alreadyRegistered(
          owner.email,
          `${settings.appLinkBaseUrl}/reset-password`,
          Bun.randomUUIDv7(),
        );
        await sendAccountMail(deps, owner.id, mail);
      }
    },

    async verifyEmail(token: string, actor: AuditActor): Promise<void> {
      const userId = await consumeEmailToken(
        deps.db.primary,
        "verify_email",
        sha256Hex(token),
        new Date(deps.clock.now()),
      );
      if (!userId)
        throw new AppError("invalid_email_token", "This link is not valid any more; ask for a new one.");
      await markEmailVerified(deps.db.primary, userId);
      await recordAudit(
        deps.db.primary,
        { ...actor, kind: "user", userId },
        { action: "user.email_verified", entityType: "user", entityId: userId, after: { verified: true } },
      );
      // The link is followed without a session, but the write is the account's: its next reads (on any device)
      // must see the confirmed address, not a replica that has not replayed it yet.
      await deps.db.markWrite(`user:${userId}`);
    },

    /** Sends a new verification link to a signed-in, unverified account. */
    async resendVerification(userId: string): Promise<void> {
      const user = await findLiveUserById(deps.db.primary, userId);
      if (!user || user.email_verified_at || !(await mayMail(user.id))) return;
      const { id, link } = await newLink(user.id, "verify_email", settings.emailVerifyTtlSeconds);
      await sendAccountMail(
        deps,
        user.id,
        accountMail.verify(user.email, link, id, settings.emailVerifyTtlSeconds / 3600),
      );
    },

    async requestPasswordReset(email: string, actor: AuditActor): Promise<void> {
      const user = await findLiveUserByEmail(deps.db.primary, email);
      logger.info(
        { emailHint: maskEmail(email), requestId: actor.requestId, known: !!user },
        "password reset asked",
      );
      if (!user || !(await mayMail(user.id))) return;
      const { id, link } = await newLink(user.id, "reset_password", settings.passwordResetTtlSeconds);
      await sendAccountMail(
        deps,
        user.id,
        accountMail.reset(user.email, link, id, settings.passwordResetTtlSeconds / 60),
      );
    },

    /**
     * A new password through a single-use link: every session is signed out (whoever knew the old password is
     * out too), the address counts as verified (the link proved the inbox) and sign-in throttling is cleared.
     */
    async confirmPasswordReset(token: string, password: string, actor: AuditActor): Promise<void> {
      const tokenHash = sha256Hex(token);
      const now = new Date(deps.clock.now());
      const pending = await deps.db.primary
        .selectFrom("email_tokens")
        .innerJoin("users", "users.id", "email_tokens.user_id")
        .select(["users.id", "users.email", "users.display_name"])
        .where("email_tokens.token_hash", "=", tokenHash)
        .where("email_tokens.purpose", "=", "reset_password")
        .where("email_tokens.used_at", "is", null)
        .where("email_tokens.expires_at", ">", now)
        .where("users.deleted_at", "is", null)
        .executeTakeFirst();
      if (!pending)
        throw new AppError("invalid_email_token", "This link is not valid any more; ask for a new one.");
      const problems = passwordProblems(password, [pending.email, pending.display_name]);
      if (problems.length > 0) {
        throw new AppError("validation_failed", "One or more fields are invalid.", {
          errors: problems.map((message) => ({ path: "json.password", message })),
        });
      }
      const passwordHash = await passwords.hash(password);
      const families = await deps.db.primary.transaction().execute(async (trx) => {
        const userId = await consumeEmailToken(trx, "reset_password", tokenHash, now);
        if (userId !== pending.id) throw new AppError("invalid_email_token", "This link has just been used.");
        await setPasswordHash(trx, userId, passwordHash);
        await markEmailVerified(trx, userId);
        const revoked = await revokeAllFamilies(trx, userId);
        await recordAudit(
          trx,
          { ...actor, kind: "user", userId },
          {
            action: "auth.password_reset",
            entityType: "user",
            entityId: userId,
            after: { sessionsRevoked: revoked.length },
          },
        );
        return revoked;
      });
      await markSessionsRevoked(deps, families);
      await deps.db.markWrite(`user:${pending.id}`);
      await throttle.forgetAccount(pending.email);
    },
  };
}
