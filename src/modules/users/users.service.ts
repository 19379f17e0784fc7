import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import { scheduleErasure } from "../account-data/erasure.repo.ts";
import { revokeAllApiKeys } from "../api-keys/api-keys.repo.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { forgetApiKeys, forgetUserState } from "../auth/credentials.ts";
import { revokeAllFamilies } from "../auth/refresh-tokens.repo.ts";
import { markSessionsRevoked } from "../auth/sessions.ts";
import { toUserDto } from "./users.dto.ts";
import { findLiveUserById, lockLiveUser, softDeleteUser, updateUser } from "./users.repo.ts";
import type { UpdateMe, User } from "./users.schemas.ts";

type UsersDeps = Pick<Deps, "db" | "cache" | "config" | "redis" | "logger">;

const gone = () => new AppError("not_found", "No such account.");

export function createUsersService(deps: UsersDeps) {
  return {
    async getMe(userId: string, clientKey: string): Promise<User> {
      const row = await deps.db.read(clientKey, (db) => findLiveUserById(db, userId));
      if (!row) throw gone();
      return toUserDto(row);
    },

    async updateMe(userId: string, patch: UpdateMe, actor: AuditActor, clientKey: string): Promise<User> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const current = await lockLiveUser(trx, userId);
        if (!current) throw gone();
        let preferences: Record<string, unknown> | undefined;
        if (patch.preferences) {
          preferences = { ...current.preferences };
          for (const [k, v] of Object.entries(patch.preferences)) {
            if (v === null) delete preferences[k];
            else preferences[k] = v;
          }
          if (Object.keys(preferences).length > 50) {
            throw new AppError("validation_failed", "At most 50 preferences.", {
              errors: [{ path: "json.preferences", message: "at most 50 preferences" }],
            });
          }
        }
        const updated = await updateUser(trx, userId, { displayName: patch.displayName, preferences });
        if (!updated) throw gone();
        await recordAudit(trx, actor, {
          action: "user.update",
          entityType: "user",
          entityId: userId,
          before: { displayName: current.display_name, preferences: current.preferences },
          after: { displayName: updated.display_name, preferences: updated.preferences },
        });
        return updated;
      });
      await deps.db.markWrite(clientKey);
      return toUserDto(row);
    },

    /** Soft delete, every refresh family and API key revoked in the same transaction, then the caches dropped. */
    async deleteMe(userId: string, actor: AuditActor, clientKey: string): Promise<void> {
      const { families, keyHashes } = await deps.db.primary.transaction().execute(async (trx) => {
        if (!(await softDeleteUser(trx, userId))) throw gone();
        // The data itself is erased by the account.erase job once the grace period is over.
        await scheduleErasure(trx, userId, deps.config.accountData.erasureGraceSeconds);
        const revoked = {
          families: await revokeAllFamilies(trx, userId),
          keyHashes: await revokeAllApiKeys(trx, userId),
        };
        await recordAudit(trx, actor, {
          action: "user.delete",
          entityType: "user",
          entityId: userId,
          after: {
            deleted: true,
            sessionsRevoked: revoked.families.length,
            apiKeysRevoked: revoked.keyHashes.length,
          },
        });
        return revoked;
      });
      await Promise.all([
        forgetUserState(deps, userId),
        forgetApiKeys(deps, keyHashes),
        markSessionsRevoked(deps, families),
        deps.db.markWrite(clientKey),
      ]);
      deps.logger.info({ userId, requestId: actor.requestId }, "account deleted");
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
