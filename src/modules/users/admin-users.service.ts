import { AppError } from "../../core/app-error.ts";
import type { Deps } from "../../deps.ts";
import type { Role } from "../../http/scopes.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { forgetUserState } from "../auth/credentials.ts";
import { toUserDto } from "./users.dto.ts";
import { lockLiveUser, updateUser } from "./users.repo.ts";
import type { User } from "./users.schemas.ts";

export function createAdminUsersService(deps: Pick<Deps, "db" | "cache">) {
  return {
    async updateRole(userId: string, role: Role, actor: AuditActor, clientKey: string): Promise<User> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const current = await lockLiveUser(trx, userId);
        if (!current) throw new AppError("not_found", "No user with this id.");
        if (current.role === role) return current;
        const updated = await updateUser(trx, userId, { role });
        if (!updated) throw new AppError("not_found", "No user with this id.");
        await recordAudit(trx, actor, {
          action: "user.role_change",
          entityType: "user",
          entityId: userId,
          before: { role: current.role },
          after: { role: updated.role },
        });
        return updated;
      });
      await Promise.all([forgetUserState(deps, userId), deps.db.markWrite(clientKey)]);
      return toUserDto(row);
    },
  };
}

export type AdminUsersService = ReturnType<typeof createAdminUsersService>;
