import { z } from "zod";
import { AppError } from "../../core/app-error.ts";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import type { Unlinked } from "../../core/page.ts";
import type { Deps } from "../../deps.ts";
import type { AuthContext } from "../../http/scopes.ts";
import { type AuditActor, recordAudit } from "../audit/audit.record.ts";
import { forgetApiKeys } from "../auth/credentials.ts";
import { newApiKey } from "../auth/secrets.ts";
import {
  type ApiKeyRow,
  countLiveApiKeys,
  findLiveApiKey,
  insertApiKey,
  listLiveApiKeys,
  revokeApiKey,
} from "./api-keys.repo.ts";
import type { ApiKey, ApiKeyListQuery, ApiKeyPage, CreateApiKey, CreatedApiKey } from "./api-keys.schemas.ts";

const MAX_LIVE_KEYS = 50;
const CursorSchema = z.object({ i: z.string().uuid() });

function toDto(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes as ApiKey["scopes"],
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

export function createApiKeysService(deps: Pick<Deps, "db" | "cache" | "clock">) {
  return {
    async create(
      auth: AuthContext,
      input: CreateApiKey,
      actor: AuditActor,
      clientKey: string,
    ): Promise<CreatedApiKey> {
      const beyond = input.scopes.filter((s) => !auth.scopes.includes(s));
      if (beyond.length > 0) {
        throw new AppError("insufficient_scope", `A key cannot carry scopes you lack: ${beyond.join(", ")}.`);
      }
      const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
      if (expiresAt && expiresAt.getTime() <= deps.clock.now()) {
        throw new AppError("validation_failed", "The expiry must be in the future.", {
          errors: [{ path: "json.expiresAt", message: "must be in the future" }],
        });
      }
      const secret = newApiKey();
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        if ((await countLiveApiKeys(trx, auth.userId, { lock: true })) >= MAX_LIVE_KEYS) {
          throw new AppError("conflict", `At most ${MAX_LIVE_KEYS} live API keys; revoke one first.`);
        }
        const created = await insertApiKey(trx, {
          userId: auth.userId,
          name: input.name,
          prefix: secret.prefix,
          keyHash: secret.keyHash,
          scopes: input.scopes,
          expiresAt,
        });
        await recordAudit(trx, actor, {
          action: "api_key.create",
          entityType: "api_key",
          entityId: created.id,
          after: toDto(created),
        });
        return created;
      });
      await deps.db.markWrite(clientKey);
      return { ...toDto(row), key: secret.key };
    },

    async list(userId: string, query: ApiKeyListQuery, clientKey: string): Promise<Unlinked<ApiKeyPage>> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      const rows = await deps.db.read(clientKey, (db) =>
        listLiveApiKeys(db, userId, { limit: query.limit + 1, afterId: after?.i }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? encodeCursor({ i: last.id }) : null;
      return { data: page.map(toDto), nextCursor };
    },

    async get(userId: string, id: string, clientKey: string): Promise<ApiKey> {
      const row = await deps.db.read(clientKey, (db) => findLiveApiKey(db, userId, id));
      if (!row) throw new AppError("not_found", "No such API key.");
      return toDto(row);
    },

    async revoke(userId: string, id: string, actor: AuditActor, clientKey: string): Promise<void> {
      const row = await deps.db.primary.transaction().execute(async (trx) => {
        const revoked = await revokeApiKey(trx, userId, id);
        if (!revoked) throw new AppError("not_found", "No such API key.");
        await recordAudit(trx, actor, {
          action: "api_key.revoke",
          entityType: "api_key",
          entityId: id,
          before: { revokedAt: null },
          after: { revokedAt: revoked.revoked_at },
        });
        return revoked;
      });
      await Promise.all([forgetApiKeys(deps, [row.key_hash]), deps.db.markWrite(clientKey)]);
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
