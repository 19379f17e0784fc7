import type { Selectable } from "kysely";
import type { Db } from "../../db/connect.ts";
import type { AuditLogTable } from "../../db/schema.ts";

export type AuditRow = Selectable<AuditLogTable>;

export type AuditFilter = {
  limit: number;
  beforeId?: string;
  actorId?: string;
  action?: string;
  entityType?: string;
  entityId?: string;
  from?: Date;
  to?: Date;
};

/** Newest first by UUIDv7 id (creation order, unique: a stable cursor). */
export async function listAudit(db: Db, f: AuditFilter): Promise<AuditRow[]> {
  let q = db.selectFrom("audit_log").selectAll();
  if (f.beforeId) q = q.where("id", "<", f.beforeId);
  if (f.actorId) q = q.where("actor_user_id", "=", f.actorId);
  if (f.action) q = q.where("action", "=", f.action);
  if (f.entityType) q = q.where("entity_type", "=", f.entityType);
  if (f.entityId) q = q.where("entity_id", "=", f.entityId);
  if (f.from) q = q.where("created_at", ">=", f.from);
  if (f.to) q = q.where("created_at", "<", f.to);
  return q.orderBy("id", "desc").limit(f.limit).execute();
}
