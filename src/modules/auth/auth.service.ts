import type { Deps } from "../../deps.ts";
import { ApiError } from "../../http/errors.ts";
import { rateLimitHeaders } from "../../http/rate-limit-headers.ts";
import { createRateLimiter, retryAfterSeconds } from "../../infra/rate-limiter.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { maskEmail } from "../users/users.dto.ts";
import { findLiveUserByEmail, findLiveUserById, insertUser } from "../users/users.repo.ts";
import type { LoginInput, RegisterInput, Session } from "./auth.schemas.ts";
import { createLockout } from "./lockout.ts";
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

type AuthDeps = Pick<Deps, "config" | "db" | "redis" | "logger" | "clock">;

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthDeps) {
  const { config, logger } = deps;
  const now = () => deps.clock.now();
  const passwords = createPasswords(config.auth.argon2);
  const lockout = createLockout(deps.redis.cache, config.redis.keyPrefix, config.auth.lockout, now);
  const limiter = createRateLimiter(deps.redis.cache, config.redis.keyPrefix, now);
  const emailPolicy = { name: "login-email", ...config.rateLimits.loginEmail };
  const refreshPolicy = { name: "refresh", ...config.rateLimits.refresh };

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
      throw new ApiError("rate_limited", "Too many refreshes for this account; retry later.", {
        headers: { "Retry-After": String(retryAfterSeconds(decision)), ...rateLimitHeaders([decision]) },
      });
    }
  }

  function locked(ms: number) {
    return new ApiError("account_locked", "Too many failed sign-ins: the account is locked for a while.", {
      headers: { "Retry-After": String(Math.max(1, Math.ceil(ms / 1000))) },
    });
  }

  /** Redis holds the lockout state: without it we refuse sign-ins rather than allow unlimited guessing. */
  async function guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      logger.error({ err: String(err) }, "login refused: lockout store unreachable");
      throw new ApiError("service_unavailable", "Sign-in is briefly unavailable.", {
        headers: { "Retry-After": "5" },
      });
    }
  }

  async function failLogin(account: string, email: string, reason: string, actor: AuditActor) {
    const nowLocked = await guarded(() => lockout.recordFailure(account));
    logger.info(
      { emailHint: maskEmail(email), reason, ip: actor.ip, requestId: actor.requestId },
      "login failed",
    );
    if (nowLocked) {
      logger.warn(
        { emailHint: maskEmail(email), requestId: actor.requestId },
        "account locked after repeated failures",
      );
      await recordAudit(deps.db.primary, actor, {
        action: "auth.account_locked",
        entityType: "account",
        entityId: account.slice(0, 16),
        after: { email: maskEmail(email), lockedForSeconds: config.auth.lockout.durationSeconds },
      });
    }
  }

  return {
    async register(input: RegisterInput, actor: AuditActor): Promise<Session> {
      const passwordHash = await passwords.hash(input.password);
      const session = await deps.db.primary.transaction().execute(async (trx) => {
        const user = await insertUser(trx, {
          email: input.email,
          passwordHash,
          displayName: input.displayName,
        });
        if (!user) throw new ApiError("email_unavailable", "This email address cannot be used to register.");
        await recordAudit(
          trx,
          { ...actor, kind: "user", userId: user.id },
          {
            action: "user.register",
            entityType: "user",
            entityId: user.id,
            after: { email: maskEmail(user.email), displayName: user.display_name, role: user.role },
          },
        );
        return issueSession(deps, trx, user);
      });
      await deps.db.markWrite(`user:${session.user.id}`);
      return session;
    },

    /** Same 401 for a wrong password and an unknown email, with the same argon2 work done in both cases. */
    async login(input: LoginInput, actor: AuditActor): Promise<Session> {
      const account = sha256Hex(input.email);
      const lockedMs = await guarded(() => lockout.lockedForMs(account));
      if (lockedMs > 0) throw locked(lockedMs);
      const perEmail = await guarded(() => limiter.hit(emailPolicy, account));
      if (!perEmail.allowed) {
        // A refused attempt still counts as a failed sign-in: hammering one account escalates to the lock.
        await failLogin(account, input.email, "rate_limited", actor);
        throw new ApiError("rate_limited", "Too many sign-in attempts for this account; retry later.", {
          headers: { "Retry-After": String(retryAfterSeconds(perEmail)), ...rateLimitHeaders([perEmail]) },
        });
      }
      const user = await findLiveUserByEmail(deps.db.primary, input.email);
      const ok = user
        ? await passwords.verify(input.password, user.password_hash)
        : await passwords.verifyDummy(input.password);
      if (!user || !ok) {
        await failLogin(account, input.email, user ? "wrong_password" : "unknown_email", actor);
        throw new ApiError("invalid_credentials", "The email or password is not correct.");
      }
      await guarded(() => lockout.clear(account));
      const session = await issueSession(deps, deps.db.primary, user);
      logger.info({ userId: user.id, requestId: actor.requestId }, "signed in");
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
        throw new ApiError(
          "invalid_refresh_token",
          "This refresh token was already used; the session has been signed out.",
        );
      }
      if (outcome.kind === "invalid") throw new ApiError("invalid_refresh_token", "Sign in again.");
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
