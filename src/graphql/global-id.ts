import { AppError } from "../core/app-error.ts";

/** Relay global ids: base64url of `<Type>:<uuid>`, opaque to clients and unique across types. */
export type NodeType = "Species" | "Identification" | "Notification" | "User";

export function toGlobalId(type: NodeType, id: string): string {
  return Buffer.from(`${type}:${id}`).toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The database id of a global id of `type`; a bare UUID is accepted too (ids copied from the REST API). */
export function fromGlobalId(type: NodeType, globalId: string, argument = "id"): string {
  if (UUID.test(globalId)) return globalId.toLowerCase();
  const decoded = Buffer.from(globalId, "base64url").toString("utf8");
  const [kind, id] = decoded.split(":");
  if (kind === type && id && UUID.test(id)) return id.toLowerCase();
  throw new AppError("validation_failed", `\`${argument}\` is not the id of a ${type}.`, {
    errors: [{ path: argument, message: `must be a ${type} id` }],
  });
}

export function parseGlobalId(globalId: string): { type: NodeType; id: string } | undefined {
  const [kind, id] = Buffer.from(globalId, "base64url").toString("utf8").split(":");
  const types: NodeType[] = ["Species", "Identification", "Notification", "User"];
  if (!kind || !id || !types.includes(kind as NodeType) || !UUID.test(id)) return undefined;
  return { type: kind as NodeType, id: id.toLowerCase() };
}
