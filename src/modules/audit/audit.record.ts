import type { Db } from "../../db/connect.ts";
import type { AuthContext } from "../../http/scopes.ts";

/** Who did something and from where, taken from the request by `auditActor(c)`. */
export type AuditActor = {
  kind: "user" | "api_key" | "system" | "anonymous";
  userId?: string;
  apiKeyId?: string;
  ip?: string;
  requestId?: string;
};

export type AuditEntry = {
  action: string;
  entityType: string;
  entityId?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
};

// Never stored, whatever a caller passes: secrets and anything derived from them.
const SECRET_FIELD = /pass(word)?|secret|token|hash|^key$|api_?key$|authorization/i;

export function auditActor(c: {
  var: { auth?: AuthContext; clientIp?: string; requestId?: string };
}): AuditActor {
  const { auth, clientIp, requestId } = c.var;
  if (!auth) return { kind: "anonymous", ip: clientIp, requestId };
  return { kind: auth.kind, userId: auth.userId, apiKeyId: auth.apiKeyId, ip: clientIp, requestId };
}

function clean(value: Record<string, unknown> | null | undefined): Record<string, unknown> | undefined {
  if (!value) return undefined;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => !SECRET_FIELD.test(k) && v !== undefined)
      .map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
  );
}

/** Only the fields that changed: `{ before: {field: old}, after: {field: new} }` (whole objects on create/delete). */
export function diffChanges(entry: AuditEntry): Record<string, unknown> {
  const before = clean(entry.before);
  const after = clean(entry.after);
  if (!before || !after) return { ...(before && { before }), ...(after && { after }) };
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed = [...fields].filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
  return {
    before: Object.fromEntries(changed.map((f) => [f, before[f] ?? null])),
    after: Object.fromEntries(changed.map((f) => [f, after[f] ?? null])),
  };
}

/** Call inside the transaction that makes the change, so the change and its record commit together. */
export async function recordAudit(db: Db, actor: AuditActor, entry: AuditEntry): Promise<string> {
  const { id, insert } = auditInsert(db, actor, entry);
  await insert.execute();
  return id;
}

/** The audit row's INSERT, not run: for a write that sends it with its own rows (db/insert-together.ts). */
export function auditInsert(db: Db, actor: AuditActor, entry: AuditEntry) {
  const id = Bun.randomUUIDv7();
  const insert = db.insertInto("audit_log").values({
    id,
    actor_type: actor.kind,
    actor_user_id: actor.userId ?? null,
    actor_api_key_id: actor.apiKeyId ?? null,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId ?? null,
    ip: actor.ip ?? null,
    request_id: actor.requestId ?? null,
    changes: diffChanges(entry),
  });
  return { id, insert };
}
