import { z } from "zod";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import type { Unlinked } from "../../core/page.ts";
import type { Deps } from "../../deps.ts";
import { type AuditRow, listAudit } from "./audit.repo.ts";
import type { AuditEntry, AuditPage, AuditQuery } from "./audit.schemas.ts";

const CursorSchema = z.object({ i: z.string().uuid() });

function toDto(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    actor: { type: row.actor_type, userId: row.actor_user_id, apiKeyId: row.actor_api_key_id },
    action: row.action,
    entity: { type: row.entity_type, id: row.entity_id },
    ip: row.ip,
    requestId: row.request_id,
    changes: row.changes,
    createdAt: row.created_at.toISOString(),
  };
}

export function createAuditService(deps: Pick<Deps, "db">) {
  return {
    async list(query: AuditQuery): Promise<Unlinked<AuditPage>> {
      const after = query.cursor ? decodeCursor(query.cursor, CursorSchema) : undefined;
      // Operators look at what others just did: the primary, not a replica that may not have it yet.
      const rows = await deps.db.readCurrent((db) =>
        listAudit(db, {
          limit: query.limit + 1,
          beforeId: after?.i,
          actorId: query.actorId,
          action: query.action,
          entityType: query.entityType,
          entityId: query.entityId,
          from: query.from ? new Date(query.from) : undefined,
          to: query.to ? new Date(query.to) : undefined,
        }),
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > query.limit && last ? encodeCursor({ i: last.id }) : null;
      return { data: page.map(toDto), nextCursor };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
