import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { groupIp } from "../../http/middleware/client-identity.ts";
import { createRateLimiter, retryAfterSeconds } from "../../infra/rate-limiter.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { maskEmail } from "../users/users.dto.ts";
import { findLiveUserByEmail, findLiveUserById } from "../users/users.repo.ts";
import { createAccountEmailService } from "./account-email.service.ts";
import { accountMail, sendAccountMail } from "./account-mail.ts";
import type { LoginInput, Session } from "./auth.schemas.ts";
import { createLoginCodes } from "./login-codes.ts";
import { type Admission, accountKey, createLoginThrottle } from "./login-throttle.ts";
import { createPasswords } from "./passwords.ts";
import {
  findRefreshToken,
  lockRefreshToken,
  markRefreshTokenUsed,
  revokeFamily,
} from "./refresh-tokens.repo.ts";
import { sha256Hex } from "./secrets.ts";
import { issueSession } from "./session-issuer.ts";
import { markSessionsRevoked } from "./sessions.ts";

type AuthDeps = Pick<Deps, "config" | "db" | "redis" | "logger" | "clock" | "queues" | "metrics">;

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthDeps) {
  const { config, logger } = deps;
  const now = () => deps.clock.now();
  const passwords = createPasswords(config.auth.argon2);
  const throttle = createLoginThrottle(
    deps.redis.cache,
    config.redis.keyPrefix,
    config.accountSecurity.throttle,
    now,
  );
  const codes = createLoginCodes(
    deps.redis.cache,
    config.redis.keyPrefix,
    config.accountSecurity.loginCodeTtlSeconds,
  );
  const accountEmail = createAccountEmailService(deps, throttle);
  const limiter = createRateLimiter(deps.redis.cache, config.redis.keyPrefix, now);
  const refreshPolicy = { name: "refresh", ...config.rateLimits.refresh };
  const mailPolicy = { name: "account-mail", ...config.accountSecurity.accountMail };

  /** Per user, not per IP: many phones behind one carrier NAT refresh all day. Fails open (nothing to guess). */
  async function limitRefresh(userId: string) {
    let decision: Awaited<ReturnType<typeof limiter.hit>>;
    try {
      decision = await limiter.hit(refreshPolicy, `user:${userId}`);
    } catch (err) {
      logger.warn({ err: String(err) }, "refresh rate limit skipped: redis unreachable");
      return;
    }
    if (!decision.allowed) {
      throw new AppError("rate_limited", "Too many refreshes for this account; retry later.", {
        retryAfterSeconds: retryAfterSeconds(decision),
        rateLimits: [decision],
      });
    }
  }

  function throttled(ms: number) {
    return new AppError(
      "login_throttled",
      "Too many failed sign-ins for this account: retry after the delay given, or ask for a sign-in code " +
        "(POST /v1/auth/login-code) and send it with your password to sign in now.",
      { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) },
    );
  }

  /** Redis holds the throttle state: without it we refuse sign-ins rather than allow unlimited guessing. */
  async function guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      logger.error({ err: String(err) }, "login refused: throttle store unreachable");
      throw new AppError("service_unavailable", "Sign-in is briefly unavailable.", {
        retryAfterSeconds: 5,
      });
    }
  }

  /**
   * How the owner gets past throttling: a client holding the account's current refresh token (it is signed in
   * on this device: its own bucket, none of the strangers' account-wide delays), or a valid e-mailed code.
   */
  async function ownerProof(
    input: LoginInput,
    account: string,
  ): Promise<{ kind: "device"; subject: string } | { kind: "code" } | undefined> {
    if (input.code && (await guarded(() => codes.matches(account, input.code!)))) return { kind: "code" };
    if (input.refreshToken) {
      const row = await findRefreshToken(deps.db.primary, sha256Hex(input.refreshToken));
      const live = row && !row.revoked_at && !row.used_at && row.expires_at.getTime() > now();
      const owner = live && (await findLiveUserById(deps.db.primary, row.user_id));
      if (owner && owner.email.toLowerCase() === input.email)
        return { kind: "device", subject: `device:${row.family_id}` };
    }
    return undefined;
  }

  /** The account just crossed into slowed-down sign-ins: record it and tell the owner (once a day). */
  async function underAttack(email: string, actor: AuditActor) {
    logger.warn(
      { emailHint: maskEmail(email), requestId: actor.requestId },
      "sign-ins slowed down after repeated failures",
    );
    const owner = await findLiveUserByEmail(deps.db.primary, email);
    await recordAudit(deps.db.primary, actor, {
      action: "auth.login_throttled",
      entityType: "account",
      entityId: accountKey(email).slice(0, 16),
      after: { email: maskEmail(email), known: !!owner },
    });
    if (owner) {
      const day = new Date(now()).toISOString().slice(0, 10);
      await sendAccountMail(deps, owner.id, accountMail.underAttack(owner.email, day, owner.id));
    }
  }

  return {
    register: accountEmail.register,
    verifyEmail: accountEmail.verifyEmail,
    resendVerification: accountEmail.resendVerification,
    requestPasswordReset: accountEmail.requestPasswordReset,
    confirmPasswordReset: accountEmail.confirmPasswordReset,

    /** A code for a throttled owner: the same 202 whether or not the address has an account. */
    async requestLoginCode(email: string, actor: AuditActor): Promise<void> {
      const user = await findLiveUserByEmail(deps.db.primary, email);
      logger.info(
        { emailHint: maskEmail(email), requestId: actor.requestId, known: !!user },
        "sign-in code asked",
      );
      if (!user) return;
      const budget = await guarded(() => limiter.hit(mailPolicy, `user:${user.id}`));
      if (!budget.allowed) return;
      const code = await guarded(() => codes.issue(accountKey(email)));
      await sendAccountMail(
        deps,
        user.id,
        accountMail.loginCode(
          user.email,
          code,
          Bun.randomUUIDv7(),
          Math.round(config.accountSecurity.loginCodeTtlSeconds / 60),
        ),
      );
    },

    /** Same 401 for a wrong password and an unknown email, with the same argon2 work done in both cases. */
    async login(input: LoginInput, actor: AuditActor): Promise<Session> {
      const account = accountKey(input.email);
      const proof = await ownerProof(input, account);
      const subject = proof?.kind === "device" ? proof.subject : `net:${groupIp(actor.ip ?? "unknown")}`;
      let admission: Admission | undefined;
      if (proof?.kind !== "code") {
        admission = await guarded(() => throttle.admit(account, subject, { account: !proof }));
        if (!admission.allowed) throw throttled(admission.waitMs);
      }
      const user = await findLiveUserByEmail(deps.db.primary, input.email);
      const ok = user
        ? await passwords.verify(input.password, user.password_hash)
        : await passwords.verifyDummy(input.password);
      if (!user || !ok) {
        if (proof?.kind === "code") await guarded(() => codes.spendTry(account));
        logger.info(
          {
            emailHint: maskEmail(input.email),
            reason: user ? "wrong_password" : "unknown_email",
            ip: actor.ip,
            requestId: actor.requestId,
          },
          "login failed",
        );
        if (!proof && admission?.accountAttempts === config.accountSecurity.throttle.accountFree) {
          await underAttack(input.email, actor);
        }
        throw new AppError("invalid_credentials", "The email or password is not correct.");
      }
      if (proof?.kind === "code") await guarded(() => codes.consume(account));
      else await guarded(() => throttle.succeeded(account, subject, { account: !proof }));
      const session = await issueSession(deps, deps.db.primary, user);
      logger.info(
        { userId: user.id, requestId: actor.requestId, via: proof?.kind ?? "password" },
        "signed in",
      );
      return session;
    },

    async refresh(token: string, actor: AuditActor): Promise<Session> {
      const tokenHash = sha256Hex(token);
      const outcome = await deps.db.primary.transaction().execute(async (trx) => {
        const row = await lockRefreshToken(trx, tokenHash);
        if (!row || row.revoked_at) return { kind: "invalid" as const };
        if (row.used_at) {
          await revokeFamily(trx, row.family_id);
          await recordAudit(
            trx,
            { ...actor, kind: "user", userId: row.user_id },
            {
              action: "auth.refresh_reuse",
              entityType: "session",
              entityId: row.family_id,
              after: { revoked: true },
            },
          );
          return { kind: "reused" as const, familyId: row.family_id, userId: row.user_id };
        }
        if (row.expires_at.getTime() <= now()) return { kind: "invalid" as const };
        const user = await findLiveUserById(trx, row.user_id);
        if (!user) return { kind: "invalid" as const };
        await limitRefresh(user.id);
        await markRefreshTokenUsed(trx, row.id);
        return { kind: "ok" as const, session: await issueSession(deps, trx, user, row.family_id) };
      });
      if (outcome.kind === "reused") {
        await markSessionsRevoked(deps, [outcome.familyId]);
        logger.warn(
          { userId: outcome.userId, requestId: actor.requestId },
          "refresh token reused: session revoked",
        );
        throw new AppError(
          "invalid_refresh_token",
          "This refresh token was already used; the session has been signed out.",
        );
      }
      if (outcome.kind === "invalid") throw new AppError("invalid_refresh_token", "Sign in again.");
      return outcome.session;
    },

    /** Idempotent: an unknown or already revoked token answers the same. */
    async logout(token: string, actor: AuditActor): Promise<void> {
      const row = await findRefreshToken(deps.db.primary, sha256Hex(token));
      if (!row) return;
      const revoked = await deps.db.primary.transaction().execute(async (trx) => {
        const count = await revokeFamily(trx, row.family_id);
        if (count > 0) {
          await recordAudit(
            trx,
            { ...actor, kind: "user", userId: row.user_id },
            {
              action: "auth.logout",
              entityType: "session",
              entityId: row.family_id,
              after: { revoked: true },
            },
          );
        }
        return count > 0;
      });
      if (revoked) await markSessionsRevoked(deps, [row.family_id]);
    },
  };
}
